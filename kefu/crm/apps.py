from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "kefu.crm"
    label = "crm"
    verbose_name = "Kefu Customer care (grades, cross-sell)"
