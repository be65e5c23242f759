app_name = "defects"
urlpatterns: list = []
