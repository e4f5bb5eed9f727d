from django.urls import path
from django.views.generic import RedirectView

from . import customer_jobs, preferences, rewards, services_due, views

app_name = "portal"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="portal:home"), name="root"),
    # Browsers ask for /favicon.ico on every page that names none (the admin's, a PDF...).
    path("favicon.ico", views.favicon, name="favicon"),
    path("home/", views.home, name="home"),
    path("customer-portal/", views.dashboard, name="dashboard"),
    path("customer-portal/book/", views.book, name="book"),
    path("customer-portal/jobs/", views.jobs, name="jobs"),
    path("customer-portal/jobs/<uuid:job_id>/cancel/", customer_jobs.cancel, name="job_cancel"),
    path("customer-portal/jobs/<uuid:job_id>/reschedule/", customer_jobs.reschedule, name="job_reschedule"),
    path("customer-portal/jobs/<uuid:job_id>/calendar.ics", customer_jobs.calendar_file, name="job_calendar"),
    path("customer-portal/notifications/", views.notifications, name="notifications"),
    path("customer-portal/rewards/", rewards.rewards, name="rewards"),
    path("customer-portal/rewards/redeem/", rewards.redeem, name="rewards_redeem"),
    path("customer-portal/rewards/history/", rewards.points_history, name="points_history"),
    path("provider-portal/", views.provider_portal, name="provider"),
    path("customer-portal/services/", services_due.services, name="services"),
    path("customer-portal/preferences/", preferences.email_preferences, name="email_preferences"),
    path("email/unsubscribe/<str:token>/", preferences.unsubscribe, name="unsubscribe"),
    path("provider-portal/jobs/<uuid:job_id>/complete/", views.provider_complete_job, name="provider_complete"),
]
