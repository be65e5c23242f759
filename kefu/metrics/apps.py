from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "kefu.metrics"
    label = "metrics"
