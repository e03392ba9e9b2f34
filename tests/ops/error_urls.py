"""The product's routes plus one view that fails, to see the 500 page."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from grantsconsole.urls import urlpatterns as product_urls


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a view")


urlpatterns = [path("test/boom/", boom), *product_urls]
