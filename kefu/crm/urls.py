from django.urls import path

from . import views

app_name = "crm"
urlpatterns = [
    path("grades/", views.grades, name="grades"),
    path("grades/recompute/", views.recompute, name="recompute"),
    path("grades/rules/", views.rules_save, name="rules"),
    path("grades/<int:customer_id>/set/", views.grade_set, name="grade_set"),
    path("promotions/", views.promotions, name="promotions"),
    path("prompts/<int:conversation_id>/", views.prompts, name="prompts"),
]
