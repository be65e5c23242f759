from django.apps import AppConfig


class FollowupsConfig(AppConfig):
    name = "kefu.followups"
    label = "followups"
    verbose_name = "Kefu follow-ups"
