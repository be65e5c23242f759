from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "kefu.orders"
    label = "orders"
