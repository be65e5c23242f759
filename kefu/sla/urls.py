from django.urls import path

from . import views

app_name = "sla"
urlpatterns = [
    path("", views.board, name="board"),
    path("policies/", views.policies, name="policies"),
    path("policies/<int:policy_id>/", views.policy_edit, name="policy_edit"),
]
