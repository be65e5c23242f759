from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "kefu.people"
    label = "people"
    verbose_name = "Kefu People management"
