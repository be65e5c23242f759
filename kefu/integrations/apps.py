from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "kefu.integrations"
    label = "integrations"
    verbose_name = "Kefu integrations: webhooks, automation rules, tracking events"
