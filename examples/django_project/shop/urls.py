"""URLs of the example shop."""

from django.urls import path

from shop import views

urlpatterns = [
    path("orders/<int:order_id>/total", views.order_total),
]
