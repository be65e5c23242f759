from django.contrib import admin
from django.urls import include, path

from kefu.api import api
from kefu.livechat import views as livechat_views

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("workforce/", include("kefu.workforce.urls")),
    path("approvals/", include("kefu.approvals.urls")),
    path("followups/", include("kefu.followups.urls")),
    path("aftersales/", include("kefu.aftersales.urls")),
    path("outbox/", include("kefu.outbound.urls")),
    path("shipping/", include("kefu.shipping.urls")),
    path("scripts/", include("kefu.replies.urls")),
    path("crm/", include("kefu.crm.urls")),
    path("customers/", include("kefu.customers.urls")),
    path("care/", include("kefu.care.urls")),
    path("sla/", include("kefu.sla.urls")),
    path("defects/", include("kefu.defects.urls")),
    path("integrations/", include("kefu.integrations.urls")),
    path("complaints/", include("kefu.complaints.urls")),
    path("quality/", include("kefu.quality.urls")),
    path("orders/", include("kefu.orders.urls")),
    path("people/", include("kefu.people.urls")),
    path("reports/", include("kefu.reports.urls")),
    path("live/", include("kefu.livechat.urls")),
    path("monitor/", livechat_views.supervisor, name="live_monitor"),
    path("webchat/settings/", livechat_views.widget_settings, name="webchat_settings"),
    path("demo/site/", livechat_views.demo_site, name="demo_site"),
    path("", include("kefu.web.urls")),
]

handler500 = "kefu.web.views.server_error"
