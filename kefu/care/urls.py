from django.urls import path

from . import views

app_name = "care"
urlpatterns = [
    path("", views.revisits, name="revisits"),
    path("revisits/<int:revisit_id>/record/", views.revisit_record, name="revisit_record"),
    path("plans/", views.plans, name="plans"),
    path("plans/<int:plan_id>/", views.plan, name="plan"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/<int:campaign_id>/", views.campaign, name="campaign"),
    path("opt-out/<int:customer_id>/", views.opt_out, name="opt_out"),
    path("surprises/", views.surprise_list, name="surprises"),
    path("surprises/new/", views.surprise_new, name="surprise_new"),
    path("surprises/<int:surprise_id>/cancel/", views.surprise_cancel, name="surprise_cancel"),
    path("at-risk/", views.at_risk, name="at_risk"),
    path("settings/", views.settings_page, name="settings"),
]
