from django.apps import AppConfig


class LivechatConfig(AppConfig):
    name = "kefu.livechat"
    label = "livechat"
    verbose_name = "Kefu Live chat"
