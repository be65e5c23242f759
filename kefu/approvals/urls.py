from django.urls import path

from . import views

app_name = "approvals"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("new/", views.request_new, name="new"),
    path("check/", views.request_check, name="check"),
    path("<int:approval_id>/decide/", views.decide, name="decide"),
    path("<int:approval_id>/cancel/", views.cancel, name="cancel"),
    path("history/", views.history, name="history"),
    path("limits/", views.limits, name="limits"),
    path("notifications/", views.notifications, name="notifications"),
]
