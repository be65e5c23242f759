from django.urls import path

from . import views, views_up

app_name = "reports"
urlpatterns = [
    path("daily/", views.daily_list, name="daily"),
    path("daily/generate/", views.daily_generate, name="daily_generate"),
    path("daily/<int:report_id>/", views.daily_detail, name="daily_detail"),
    path("daily/<int:report_id>/sign/", views.daily_sign, name="daily_sign"),
    path("dept/", views_up.dept_list, name="dept"),
    path("dept/generate/", views_up.dept_generate, name="dept_generate"),
    path("dept/<int:report_id>/", views_up.dept_detail, name="dept_detail"),
    path("dept/<int:report_id>/notes/", views_up.dept_write, name="dept_write"),
    path("month/", views_up.month_list, name="month"),
    path("month/prepare/", views_up.month_prepare, name="month_prepare"),
    path("month/<int:report_id>/", views_up.month_detail, name="month_detail"),
    path("month/<int:report_id>/<str:action>/", views_up.month_action, name="month_action"),
]
