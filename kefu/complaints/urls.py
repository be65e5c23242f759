from django.urls import path

from . import views

app_name = "complaints"
urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_new, name="new"),
    path("<int:complaint_id>/", views.complaint_detail, name="detail"),
    path("<int:complaint_id>/<str:what>/", views.complaint_post, name="post"),
    path("reviews/", views.review_tasks, name="reviews"),
    path("reviews/import/", views.review_import, name="review_import"),
    path("reviews/<int:task_id>/act/", views.review_task_act, name="review_act"),
    path("disputes/", views.dispute_list, name="disputes"),
    path("disputes/<int:dispute_id>/", views.dispute_detail, name="dispute"),
    path("disputes/evidence/<int:evidence_id>/", views.evidence_file, name="evidence"),
    path("csat/", views.csat, name="csat"),
]
