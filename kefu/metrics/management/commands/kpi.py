import json
import sys

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from kefu.core.errors import KefuError
from kefu.core.models import Shop
from kefu.metrics.exports import COLUMN_LABELS, report_file
from kefu.metrics.kpi import kpi_report
from kefu.metrics.queue import facts_drain
from kefu.metrics.selectors import parse_range

TABLE_COLUMNS = ("receptions", "reply_rate", "first_response_seconds", "response_seconds", "slow_turns",
                 "unanswered_turns", "inquiries", "conversion_rate", "sales", "avg_order_value", "refund_rate",
                 "score", "rank")


class Command(BaseCommand):
    help = ("KPIs (SPEC §12): `kefu kpi --shop CODE --from DATE --to DATE [--by agent|group|shop] "
            "[--format table|json|csv|xlsx] [--out FILE] [--wait [SECONDS]]`")

    def add_arguments(self, parser):
        parser.add_argument("--shop", required=True)
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument("--by", choices=["agent", "group", "shop"], default="agent")
        parser.add_argument("--format", choices=["table", "json", "csv", "xlsx"], default="table")
        parser.add_argument("--out")
        parser.add_argument("--wait", type=float, nargs="?", const=60.0, default=None, metavar="SECONDS",
                            help="first bring the figures up to date: rebuild the buyers changed since the "
                                 "last drain (with the worker, if it runs), waiting at most SECONDS (60)")

    def handle(self, *args, shop, date_from, date_to, by, format, out, wait, **o):
        shop_obj = Shop.objects.filter(code=shop).first()
        if shop_obj is None:
            raise CommandError(f"no shop {shop!r}")
        try:
            d_from, d_to = parse_range(date_from, date_to, today=None)
        except KefuError as exc:
            raise CommandError(f"--{exc.field}: {exc.message}") from exc
        if wait is not None:
            facts_drain(shop=shop_obj, seconds=wait)
        report = kpi_report(shop=shop_obj, date_from=d_from, date_to=d_to, by=by)
        if report["lag_seconds"]:
            self.stderr.write(f"note: changes of the last {report['lag_seconds']:.0f} s are not in these figures yet "
                              "(the worker adds them; --wait waits for them)")
        if format == "json":
            data = json.dumps(report, ensure_ascii=False, indent=2).encode()
        elif format in ("csv", "xlsx"):
            data = report_file(report, format)
        else:
            self._table(report, by)
            return
        if out:
            with open(out, "wb") as fh:
                fh.write(data)
            self.stdout.write(f"wrote {out}")
        elif format == "xlsx":
            raise CommandError("--format xlsx needs --out FILE")
        else:
            sys.stdout.buffer.write(data + (b"\n" if format == "json" else b""))
            sys.stdout.flush()

    def _table(self, report, by):
        key = {"agent": "agents", "group": "groups", "shop": "shops"}[by]
        first = {"agent": "agent", "group": "group", "shop": "shop"}[by]
        cols = [c for c in TABLE_COLUMNS if by == "agent" or c not in ("score", "rank")]
        t = Table(title=f"{report['shop']} {report['from']} – {report['to']}")
        for c in (first, *cols):
            t.add_column(COLUMN_LABELS.get(c, c), justify="left" if c == first else "right")
        for r in report[key]:
            t.add_row(*[_fmt(c, r.get(c)) for c in (first, *cols)])
        Console(file=self.stdout._out, width=200).print(t)
        tot = report["shop_totals"]
        self.stdout.write(f"静默订单 silent orders: {tot['silent_orders']}  静默销售额 silent sales: {tot['silent_sales']}")


def _fmt(col, v):
    if v is None:
        return "–"
    if col.endswith("_rate"):
        return f"{v:.1%}"
    return str(v)
