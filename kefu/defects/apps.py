from django.apps import AppConfig


class DefectsConfig(AppConfig):
    name = "kefu.defects"
    label = "defects"
    verbose_name = "Kefu Production alerts and return reasons"
