from django.contrib import admin
from django.urls import include, path

from kefu.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("workforce/", include("kefu.workforce.urls")),
    path("approvals/", include("kefu.approvals.urls")),
    path("followups/", include("kefu.followups.urls")),
    path("aftersales/", include("kefu.aftersales.urls")),
    path("", include("kefu.web.urls")),
]
