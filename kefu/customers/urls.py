from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("", views.buyer_list, name="list"),
    path("bulk-tags/", views.bulk_tags, name="bulk_tags"),
    path("tags/", views.tags, name="tags"),
    path("<int:customer_id>/", views.buyer_detail, name="detail"),
    path("<int:customer_id>/reveal/", views.reveal, name="reveal"),
    path("<int:customer_id>/tag/", views.tag, name="tag"),
    path("<int:customer_id>/note/", views.note, name="note"),
    path("<int:customer_id>/merge/", views.merge, name="merge"),
    path("<int:customer_id>/merges/<int:merge_id>/undo/", views.merge_undo, name="merge_undo"),
]
