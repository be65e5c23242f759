from django.http import HttpResponse
from django.urls import path

from kefu.urls import handler500  # noqa: F401 - the product's 500/503 page, as under kefu.urls
from kefu.urls import urlpatterns as kefu_urlpatterns


def ping(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping", ping), *kefu_urlpatterns]
