from django.urls import path

from . import views

app_name = "bundles"

urlpatterns = [
    path("customer-portal/bundles/<int:bundle_id>/", views.bundle_page, name="bundle"),
]
