from django.apps import AppConfig


class ShippingConfig(AppConfig):
    name = "kefu.shipping"
    label = "shipping"
    verbose_name = "Kefu Shipping audit"
