from django.urls import path

from . import views

app_name = "workforce"
urlpatterns = [
    path("", views.roster, name="roster"),
    path("roster/cell/", views.roster_cell, name="roster_cell"),
    path("roster/copy/", views.roster_copy, name="roster_copy"),
    path("status/", views.status_set, name="status"),
    path("now/", views.now, name="now"),
    path("shifts/", views.shifts, name="shifts"),
    path("shifts/<int:shift_id>/", views.shift_edit, name="shift_edit"),
    path("swaps/", views.swaps, name="swaps"),
    path("swaps/<int:swap_id>/<str:action>/", views.swap_decide, name="swap_decide"),
]
