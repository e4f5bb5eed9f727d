from django.urls import path

from . import views

app_name = "metrics"

urlpatterns = [
    path("", views.metrics_page, name="page"),
    path("<slug:table>.csv", views.export_csv, name="export"),
]
