from django.urls import path

from . import views

app_name = "plans"

urlpatterns = [
    path("customer-portal/plans/", views.plans_page, name="page"),
    path("customer-portal/plans/subscribe/", views.subscribe_view, name="subscribe"),
    path("customer-portal/plans/<uuid:subscription_id>/<str:action>/", views.change_view, name="change"),
]
