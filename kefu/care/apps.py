from django.apps import AppConfig


class CareConfig(AppConfig):
    name = "kefu.care"
    label = "care"
    verbose_name = "Kefu Customer care (revisits, care messages, surprises, churn watch)"
