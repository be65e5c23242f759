from django.urls import path

from . import views

app_name = "shipping"
urlpatterns = [
    path("", views.issue_list, name="list"),
    path("recompute/", views.recompute, name="recompute"),
    path("settings/", views.settings_save, name="settings"),
    path("issues/<int:issue_id>/resolve/", views.resolve, name="resolve"),
    path("skus/", views.skus, name="skus"),
    path("skus/ratings/", views.ratings_upload, name="ratings"),
    path("skus/<path:code>/", views.sku_act, name="sku_act"),
]
