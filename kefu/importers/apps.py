from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "kefu.importers"
    label = "importers"
