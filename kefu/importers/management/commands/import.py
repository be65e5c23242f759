from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.models import Shop
from kefu.importers.services import ImportInterrupted, file_import

MAX_SHOWN = 20


class RateColumn(ProgressColumn):
    def render(self, task):
        return Text(f"{task.speed:,.0f} rows/s" if task.speed else "… rows/s")


class Command(BaseCommand):
    help = ("Import a CSV/XLSX file: `kefu import messages|orders FILE --shop CODE "
            "[--format generic|taobao|jd|pdd|douyin|shopify|auto] [--amounts auto|net|gross]`. "
            "Run it again after an interruption: it finishes the file. "
            "`kefu import catalog FILE --shop CODE [--format generic|shopify|taobao]`: products, SKUs, categories, "
            "batches and stock (all or nothing).")

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=["messages", "orders", "catalog"])
        parser.add_argument("file")
        parser.add_argument("--shop", required=True)
        parser.add_argument("--format", default="generic",
                            help="generic (default); for orders also taobao, jd, pdd, douyin, shopify or auto (detect); "
                                 "for catalog also shopify or taobao (淘宝助理's 宝贝 file)")
        parser.add_argument("--amounts", choices=["auto", "net", "gross"], default=None,
                            help="taobao: is 买家实际支付金额 net of refunds? auto (default) detects it")

    def handle(self, *args, kind, file, shop, format, amounts=None, **o):
        shop_obj = Shop.objects.filter(code=shop).first()
        if shop_obj is None:
            raise CommandError(f"no shop {shop!r}; create it with `kefu shop add {shop} --name …`")
        if shop_obj.archived_at is not None:
            raise CommandError(f"shop {shop!r} is archived: nothing imported")
        if kind == "catalog":
            return self._catalog(shop_obj, file, format)
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                      RateColumn(), TimeRemainingColumn(), transient=True, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task(f"import {kind}", total=None)
            try:
                got = file_import(
                    shop=shop_obj, kind=kind, path=file, fmt=format, options={"amounts": amounts},
                    progress=lambda done, total: bar.update(task, completed=done, total=total),
                )
            except ValidationFailed as exc:
                raise CommandError(exc.report(MAX_SHOWN)) from exc
            except ImportInterrupted as exc:
                raise CommandError(f"import interrupted: {exc.message}") from exc
            except KefuError as exc:
                raise CommandError(f"nothing imported: {exc.field + ': ' if exc.field else ''}{exc.message}") from exc
            except DatabaseError as exc:  # before the first row was written (busy, gone)
                raise CommandError(f"nothing imported: the database refused ({type(exc).__name__}: "
                                   f"{str(exc).strip()[:200]}); try again") from exc
        for w in got.warnings:
            if not w.startswith("reading:"):
                self.stderr.write(f"warning: {w}")
        for w in got.warnings:
            if w.startswith("reading:"):
                self.stdout.write(w)
        result = got.result
        self.stdout.write(
            f"{kind}: {result.created} created, {result.updated} updated, {result.duplicates} unchanged/duplicate"
        )
        self.stdout.write(f"{got.written} rows written in {got.seconds:.1f} s ({got.rows_per_second:,.0f} rows/s)")

    def _catalog(self, shop_obj, file, fmt):
        from kefu.catalog.imports import catalog_file_import

        try:
            got = catalog_file_import(shop=shop_obj, path=file, fmt=fmt)
        except ValidationFailed as exc:
            raise CommandError(exc.report(MAX_SHOWN)) from exc
        except KefuError as exc:
            raise CommandError(f"nothing imported: {exc.field + ': ' if exc.field else ''}{exc.message}") from exc
        self.stdout.write(f"catalog: {got.rows} rows; {got.summary()}")
