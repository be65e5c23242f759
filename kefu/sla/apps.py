from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "kefu.sla"
    label = "sla"
    verbose_name = "Kefu SLA clocks"

    def ready(self):
        from . import rollup  # noqa: F401  (connects the roll-up's deletion and spam receivers)
