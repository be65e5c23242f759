import plotly
from django.urls import path

from . import settings_views, views

app_name = "web"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("shop/", views.shop_switch, name="shop_switch"),
    path("", views.dashboard, name="dashboard"),
    path("agents/<int:agent_id>/", views.agent_detail, name="agent_detail"),
    path("settings/", settings_views.shop_settings, name="settings"),
    path("conversations/", views.conversations, name="conversations"),
    path("conversations/<int:conversation_id>/", views.conversation_detail, name="conversation_detail"),
    path("conversations/<int:conversation_id>/spam/", views.conversation_spam, name="conversation_spam"),
    # The version in the name lets browsers cache it for long; a plotly upgrade changes the URL.
    path(f"vendor/plotly-{plotly.__version__}.min.js", views.plotly_js, name="plotly_js"),
]
