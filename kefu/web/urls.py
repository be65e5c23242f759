import plotly
from django.urls import path

from kefu.conversations import views as conv_views

from . import settings_views, views

app_name = "web"
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("shop/", views.shop_switch, name="shop_switch"),
    path("", views.dashboard, name="dashboard"),
    path("agents/<int:agent_id>/", views.agent_detail, name="agent_detail"),
    path("settings/", settings_views.shop_settings, name="settings"),
    path("search/", views.search, name="search"),
    path("settings/tokens/", settings_views.token_new, name="token_new"),
    path("settings/tokens/<int:token_id>/revoke/", settings_views.token_revoke_view, name="token_revoke"),
    path("conversations/", conv_views.conversations, name="conversations"),
    path("conversations/views/", conv_views.view_save, name="conversation_view_save"),
    path("conversations/views/<int:view_id>/delete/", conv_views.view_delete, name="conversation_view_delete"),
    path("conversations/<int:conversation_id>/", conv_views.conversation_detail, name="conversation_detail"),
    path("conversations/<int:conversation_id>/spam/", conv_views.conversation_spam, name="conversation_spam"),
    path("conversations/<int:conversation_id>/transfer/", conv_views.conversation_transfer,
         name="conversation_transfer"),
    path("conversations/<int:conversation_id>/close/", conv_views.conversation_close, name="conversation_close"),
    path("conversations/<int:conversation_id>/notes/", conv_views.conversation_note, name="conversation_note"),
    path("conversations/<int:conversation_id>/merge/", conv_views.conversation_merge, name="conversation_merge"),
    path("conversations/<int:conversation_id>/reply/", conv_views.conversation_reply, name="conversation_reply"),
    # The version in the name lets browsers cache it for long; a plotly upgrade changes the URL.
    path(f"vendor/plotly-{plotly.__version__}.min.js", views.plotly_js, name="plotly_js"),
]
