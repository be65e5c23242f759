from django.urls import path

from . import views, views_extra

app_name = "aftersales"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_new, name="new"),
    path("rules/", views_extra.rules_page, name="rules"),
    path("follow-ups/", views_extra.overdue_page, name="followups"),
    path("evidence/", views_extra.evidence_search, name="evidence"),
    path("evidence/zip/", views_extra.evidence_zip, name="evidence_zip"),
    path("evidence/<int:evidence_id>/", views_extra.evidence_file, name="evidence_file"),
    path("<int:case_id>/", views.case_detail, name="detail"),
    path("<int:case_id>/transition/", views.case_transition_view, name="transition"),
    path("<int:case_id>/do/<slug:op>/", views_extra.case_action, name="action"),
    path("<int:case_id>/evidence/", views_extra.evidence_upload, name="evidence_upload"),
]
