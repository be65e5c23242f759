from django.urls import path

from . import views

app_name = "replies"
urlpatterns = [
    path("", views.library, name="library"),
    path("new/", views.edit, name="new"),
    path("<int:script_id>/edit/", views.edit, name="edit"),
    path("<int:script_id>/use/", views.use, name="use"),
    path("opening/", views.opening, name="opening"),
    path("settings/", views.settings_save, name="settings"),
    path("picker/", views.picker, name="picker"),
]
