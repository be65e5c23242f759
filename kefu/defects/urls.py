from django.urls import path

from . import views

app_name = "defects"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("rule/", views.rule_edit, name="rule"),
    path("scan/", views.scan_now, name="scan"),
    path("report/", views.report, name="report"),
    path("<int:alert_id>/", views.alert_detail, name="detail"),
    path("<int:alert_id>/act/", views.alert_act, name="act"),
]
