from django.http import HttpResponse
from django.urls import path

from kefu.urls import urlpatterns as kefu_urlpatterns


def ping(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("bench/ping", ping), *kefu_urlpatterns]
