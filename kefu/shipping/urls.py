app_name = "shipping"
urlpatterns: list = []
