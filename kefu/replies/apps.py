from django.apps import AppConfig


class RepliesConfig(AppConfig):
    name = "kefu.replies"
    label = "replies"
    verbose_name = "Kefu Reply scripts"
