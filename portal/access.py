"""Who may see what: each view fetches only the caller's own rows through these."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from retention.models import Job


def customer_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        customer = getattr(request.user, "customer", None)
        if customer is None:
            raise PermissionDenied("This page is for customers.")
        request.customer = customer
        return view(request, *args, **kwargs)

    return wrapper


def provider_required(view):
    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        provider = getattr(request.user, "provider", None)
        if provider is None:
            raise PermissionDenied("This page is for providers.")
        request.provider = provider
        return view(request, *args, **kwargs)

    return wrapper


def provider_job_or_404(request, job_id) -> Job:
    return get_object_or_404(Job.objects.select_related("service_type", "customer__user"), pk=job_id, provider=request.provider)
