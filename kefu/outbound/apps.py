from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "kefu.outbound"
    label = "outbound"
    verbose_name = "Kefu Outbound messages (outbox)"
