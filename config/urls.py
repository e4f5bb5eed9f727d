from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from portal.api import api
from portal.forms import EmailAuthenticationForm

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/metrics/", include("metrics.urls")),  # before admin's own catch-all
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("bundles.urls")),
    path("", include("portal.urls")),
]
