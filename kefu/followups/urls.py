from django.urls import path

from . import views

app_name = "followups"
urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("new/", views.create, name="new"),
    path("<int:followup_id>/act/", views.act, name="act"),
]
