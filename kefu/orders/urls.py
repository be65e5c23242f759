from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.order_list, name="list"),
    path("requests/", views.request_list, name="requests"),
    path("requests/<int:request_id>/act/", views.order_request_act, name="request_act"),
    path("warehouse/", views.warehouse, name="warehouse"),
    path("warehouse/<int:task_id>/complete/", views.warehouse_complete, name="warehouse_complete"),
    path("<str:order_id>/", views.order_detail, name="detail"),
    path("<str:order_id>/requests/", views.order_request_new, name="request_new"),
    path("<str:order_id>/remarks/", views.order_remark_new, name="remark_new"),
]
