from django.contrib import admin
from django.urls import include, path

from portal.api import api

urlpatterns = [
    path("accounts/", include("accounts.urls")),
    path("admin/metrics/", include("metrics.urls")),  # before admin's own catch-all
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("bundles.urls")),
    path("", include("referrals.urls")),  # /r/<code>: the invited friend's page
    path("", include("plans.urls")),
    path("", include("portal.urls")),
]
