from django.urls import path

from . import views

app_name = "quality"
urlpatterns = [
    path("", views.home, name="home"),
    path("sampling/run/", views.sampling_run_view, name="sampling_run"),
    path("reviews/start/", views.review_start, name="review_start"),
    path("reviews/<int:review_id>/", views.review_detail, name="review"),
    path("agents/<int:agent_id>/", views.agent_detail, name="agent"),
    path("reports/", views.reports, name="reports"),
    path("cases/", views.cases, name="cases"),
    path("cases/new/", views.case_post, name="case_new"),
    path("cases/<int:case_id>/script/", views.case_post, name="case_script"),
    path("scripts/", views.scripts, name="scripts"),
    path("knowledge/", views.knowledge, name="knowledge"),
    path("settings/", views.settings_page, name="settings"),
]
