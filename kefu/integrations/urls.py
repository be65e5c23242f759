from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("webhooks/new/", views.webhook_new, name="webhook_new"),
    path("webhooks/<int:webhook_id>/", views.webhook_detail, name="webhook"),
    path("rules/new/", views.rule_new, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_detail, name="rule"),
    path("events/", views.event_types_page, name="events"),
    path("catalog/", views.catalog_page, name="catalog"),
]
