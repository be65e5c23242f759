from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.models import Shop
from kefu.importers.services import file_import

MAX_SHOWN = 20


class Command(BaseCommand):
    help = ("Import a CSV/XLSX file: `kefu import messages|orders FILE --shop CODE "
            "[--format generic|taobao|jd|pdd|douyin|shopify|auto] [--amounts auto|net|gross]`")

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["messages", "orders"])
        parser.add_argument("file")
        parser.add_argument("--shop", required=True)
        parser.add_argument("--format", default="generic",
                            help="generic (default); for orders also taobao, jd, pdd, douyin, shopify or auto (detect)")
        parser.add_argument("--amounts", choices=["auto", "net", "gross"], default=None,
                            help="taobao: is 买家实际支付金额 net of refunds? auto (default) detects it")

    def handle(self, *args, kind, file, shop, format, amounts=None, **o):
        shop_obj = Shop.objects.filter(code=shop).first()
        if shop_obj is None:
            raise CommandError(f"no shop {shop!r}; create it with `kefu shop add {shop} --name …`")
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      TimeRemainingColumn(), transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task(f"import {kind}", total=None)
            try:
                result, warnings = file_import(
                    shop=shop_obj, kind=kind, path=file, fmt=format, options={"amounts": amounts},
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            except ValidationFailed as exc:
                lines = [f"row {e['row']}, {e['field']}: {e['message']}" for e in exc.errors[:MAX_SHOWN]]
                more = len(exc.errors) - MAX_SHOWN
                if more > 0:
                    lines.append(f"… and {more} more")
                raise CommandError(
                    f"nothing imported: {len(exc.errors)} bad row(s)\n" + "\n".join(lines)
                ) from exc
            except KefuError as exc:
                raise CommandError(f"nothing imported: {exc.field + ': ' if exc.field else ''}{exc.message}") from exc
        for w in warnings:
            if not w.startswith("reading:"):
                self.stderr.write(f"warning: {w}")
        for w in warnings:
            if w.startswith("reading:"):
                self.stdout.write(w)
        self.stdout.write(
            f"{kind}: {result.created} created, {result.updated} updated, {result.duplicates} unchanged/duplicate"
        )
