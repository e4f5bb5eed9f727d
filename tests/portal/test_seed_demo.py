"""seed_demo makes the data PRODUCT.md lists, and running it again changes nothing."""

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from retention.models import Job, Provider, ServiceType, User


def counts():
    return {model.__name__: model.objects.count() for model in (User, ServiceType, Job, Provider)}


def test_seed_demo_is_idempotent_and_complete(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    first = counts()
    call_command("seed_demo", stdout=open("/dev/null", "w"))
    assert counts() == first
    for email in ("demo@example.com", "provider@example.com", "admin@example.com"):
        # A request, as every login has one (login throttling needs its address).
        request = RequestFactory().post("/accounts/login/")
        assert authenticate(request, username=email, password="demo-password") is not None
    assert User.objects.get(email="admin@example.com").is_superuser
    assert set(ServiceType.objects.values_list("name", "frequency_days")) == {
        ("Lawn Care", 14), ("Pool Service", 7), ("Pest Control", 30), ("HVAC", 180),
    }
    provider = Provider.objects.get(user__email="provider@example.com")
    assert provider.jobs.filter(status="scheduled").count() >= 2
    demo_jobs = Job.objects.filter(customer__user__email="demo@example.com")
    assert demo_jobs.filter(status="completed").exists()
