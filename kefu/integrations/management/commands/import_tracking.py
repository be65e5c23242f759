from django.core.management.base import BaseCommand, CommandError

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.models import Shop
from kefu.integrations.tracking import tracking_file_import


class Command(BaseCommand):
    help = "Import courier scans: `kefu import_tracking FILE --shop CODE` (number, courier, state, time, context)"

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--shop", required=True)

    def handle(self, *args, file, shop, **o):
        shop_obj = Shop.objects.filter(code=shop).first()
        if shop_obj is None:
            raise CommandError(f"no shop {shop!r}")
        try:
            got = tracking_file_import(shop=shop_obj, path=file)
        except ValidationFailed as exc:
            raise CommandError(exc.report()) from exc
        except KefuError as exc:
            raise CommandError(f"nothing imported: {exc.field + ': ' if exc.field else ''}{exc.message}") from exc
        self.stdout.write(f"tracking: {got.created} created, {got.duplicates} duplicate; "
                          f"{len(got.orders_moved)} order(s) moved")
