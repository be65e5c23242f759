from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "kefu.catalog"
    label = "catalog"
