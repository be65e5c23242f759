from django.urls import path

from . import views, widget_views

app_name = "livechat"

urlpatterns = [
    path("", views.workspace, name="workspace"),
    path("stream", views.staff_stream, name="stream"),
    path("chats/<int:conversation_id>/side", views.chat_side, name="chat_side"),
    path("images/<int:attachment_id>", views.staff_image, name="image"),
    # the widget (public)
    path("widget.js", widget_views.loader_js, name="loader"),
    path("w/<str:key>/frame", widget_views.frame, name="frame"),
    path("w/<str:key>/session", widget_views.session, name="w_session"),
    path("w/<str:key>/messages", widget_views.messages, name="w_messages"),
    path("w/<str:key>/images", widget_views.images, name="w_images"),
    path("w/<str:key>/images/<int:attachment_id>", widget_views.image, name="w_image"),
    path("w/<str:key>/typing", widget_views.typing, name="w_typing"),
    path("w/<str:key>/read", widget_views.read, name="w_read"),
    path("w/<str:key>/rating", widget_views.rating, name="w_rating"),
    path("w/<str:key>/stream", widget_views.stream, name="w_stream"),
]
