from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "kefu.quality"
    label = "quality"
    verbose_name = "Kefu Quality inspection"
