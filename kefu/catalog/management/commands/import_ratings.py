from django.core.management.base import BaseCommand, CommandError

from kefu.catalog.services import ratings_file_import
from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.models import Shop

MAX_SHOWN = 20


class Command(BaseCommand):
    help = "Import SKU ratings from CSV/XLSX: `kefu import_ratings FILE --shop CODE` (columns sku, rating, count)"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--shop", required=True)

    def handle(self, *args, file, shop, **o):
        shop_obj = Shop.objects.filter(code=shop).first()
        if shop_obj is None:
            raise CommandError(f"no shop {shop!r}")
        try:
            n = ratings_file_import(shop=shop_obj, path=file)
        except ValidationFailed as exc:
            raise CommandError(exc.report(MAX_SHOWN)) from exc
        except KefuError as exc:
            raise CommandError(f"nothing imported: {exc.field + ': ' if exc.field else ''}{exc.message}") from exc
        self.stdout.write(f"ratings: {n} SKU(s) updated")
