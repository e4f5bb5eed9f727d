from django.urls import path
from django.views.generic import RedirectView

from . import views
from . import rewards
from . import services_due

app_name = "portal"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home"), name="root"),
    path("home/", views.home, name="home"),
    path("customer-portal/", views.dashboard, name="dashboard"),
    path("customer-portal/book/", views.book, name="book"),
    path("customer-portal/jobs/", views.jobs, name="jobs"),
    path("customer-portal/notifications/", views.notifications, name="notifications"),
    path("customer-portal/rewards/", rewards.rewards, name="rewards"),
    path("customer-portal/rewards/redeem/", rewards.redeem, name="rewards_redeem"),
    path("provider-portal/", views.provider_portal, name="provider"),
    path("customer-portal/services/", services_due.services, name="services"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("provider-portal/jobs/<uuid:job_id>/complete/", views.provider_complete_job, name="provider_complete"),
]
