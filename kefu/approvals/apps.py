from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "kefu.approvals"
    label = "approvals"
    verbose_name = "Kefu approvals"
