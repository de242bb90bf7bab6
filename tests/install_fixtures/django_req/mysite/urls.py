"""URLs for mysite."""

from django.urls import path


def total(request):
    return 1 / 0


urlpatterns = [path('total', total)]
