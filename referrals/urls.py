from django.urls import path

from . import views

app_name = "referrals"

urlpatterns = [
    path("r/<str:code>", views.landing, name="landing"),
]
