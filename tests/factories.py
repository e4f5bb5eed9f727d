"""factory-boy factories for every model the tests build."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from retention.models import Customer, Job, Notification, PromoCode, Provider, ServiceType, User
from retention.models.notifications import JOB_UPDATE
from retention.models.promo import STAFF_ISSUED


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password = factory.django.Password("pw-for-tests")


class ServiceTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceType
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")
    frequency_days = 30
    base_price = Decimal("100.00")


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    user = factory.SubFactory(UserFactory)
    phone = "555-0100"


class ProviderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Provider
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    business_name = factory.Sequence(lambda n: f"Provider {n} LLC")
    phone = "555-0199"

    @factory.post_generation
    def service_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.service_types.set(extracted)


class JobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Job

    customer = factory.SubFactory(CustomerFactory)
    provider = factory.SubFactory(ProviderFactory)
    service_type = factory.SubFactory(ServiceTypeFactory)
    scheduled_for = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=3))
    price = factory.LazyAttribute(lambda job: job.service_type.base_price)
    amount_paid = factory.LazyAttribute(lambda job: job.price)

    # JobFactory(completed_days_ago=10): a job completed that many days ago.
    @classmethod
    def _create(cls, model_class, *args, completed_days_ago=None, **kwargs):
        if completed_days_ago is not None:
            day = timezone.localdate() - dt.timedelta(days=completed_days_ago)
            at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
            kwargs.setdefault("scheduled_for", day)
            kwargs.setdefault("created_at", at - dt.timedelta(days=7))
            kwargs["status"] = Job.Status.COMPLETED
            kwargs["completed_at"] = at
            kwargs["next_due_date"] = day + dt.timedelta(days=kwargs["service_type"].frequency_days)
        return super()._create(model_class, *args, **kwargs)


class PromoCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromoCode
        skip_postgeneration_save = True

    customer = factory.SubFactory(CustomerFactory)
    source = STAFF_ISSUED
    discount_type = PromoCode.DiscountType.PERCENT
    discount_value = Decimal("20")
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))

    @factory.post_generation
    def service_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.service_types.set(extracted)


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    customer = factory.SubFactory(CustomerFactory)
    kind = JOB_UPDATE
    title = factory.Sequence(lambda n: f"Notification {n}")
    message = "Something happened."


# --- retention: the email outbox ------------------------------------------------------


class OutboundEmailFactory(factory.django.DjangoModelFactory):
    """An outbox row as build_email() writes it (rendered, pending)."""

    class Meta:
        model = "outbox.OutboundEmail"

    idempotency_key = factory.Sequence(lambda n: f"transactional/test-{n}")
    template = "test_message"
    kind = "transactional"
    customer = None
    to_email = factory.Sequence(lambda n: f"person{n}@example.com")
    subject = factory.Sequence(lambda n: f"Message {n}")
    text_body = "Hello in text."
    html_body = '<p style="margin:0">Hello in HTML.</p>'


# --- loyalty ---------------------------------------------------------------------------

from loyalty.models import Reward  # noqa: E402


class RewardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reward

    name = factory.Sequence(lambda n: f"Reward {n}")
    description = "A reward for loyal customers."
    points_cost = 100
    reward_type = Reward.RewardType.AMOUNT_OFF
    reward_value = Decimal("10.00")


# --- reminders ----------------------------------------------------------------------


def completed_job(*, customer, service_type, provider, completed_on: dt.date, booked_on: dt.date | None = None, **fields):
    """A job completed on a given business day; its next due date follows the service's frequency."""
    completed_at = timezone.make_aware(dt.datetime.combine(completed_on, dt.time(12)))
    booked_on = booked_on or completed_on - dt.timedelta(days=7)
    return JobFactory(
        customer=customer,
        service_type=service_type,
        provider=provider,
        scheduled_for=completed_on,
        status=Job.Status.COMPLETED,
        created_at=timezone.make_aware(dt.datetime.combine(booked_on, dt.time(9))),
        completed_at=completed_at,
        next_due_date=service_type.next_due_date(completed_on),
        **fields,
    )


def job_due_on(*, customer, service_type, provider, due_on: dt.date, **fields):
    """A completed job whose service is next due on `due_on`."""
    completed_on = due_on - dt.timedelta(days=service_type.frequency_days)
    return completed_job(customer=customer, service_type=service_type, provider=provider, completed_on=completed_on, **fields)


def booked_job(*, customer, service_type, provider, booked_on: dt.date, scheduled_for: dt.date, status=Job.Status.SCHEDULED):
    """A job booked on `booked_on` (its booking time) for `scheduled_for`."""
    return JobFactory(
        customer=customer,
        service_type=service_type,
        provider=provider,
        scheduled_for=scheduled_for,
        status=status,
        created_at=timezone.make_aware(dt.datetime.combine(booked_on, dt.time(10))),
    )


# --- campaigns -------------------------------------------------------------------------

from campaigns.models import SEASONAL_SOURCE, Campaign, CampaignSend  # noqa: E402


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign
        skip_postgeneration_save = True

    season = Campaign.Season.WINTER
    title = factory.Sequence(lambda n: f"Campaign {n}")
    description = "Get your home ready for the season."
    discount_percent = 20
    start_month = 12
    end_month = 2
    promo_valid_days = 30
    active = True

    @factory.post_generation
    def service_types(self, create, extracted, **kwargs):
        if create and extracted:
            self.service_types.set(extracted)


class CampaignSendFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignSend

    campaign = factory.SubFactory(CampaignFactory)
    customer = factory.SubFactory(CustomerFactory)
    season_year = 2026
    promo_code = factory.SubFactory(
        PromoCodeFactory, customer=factory.SelfAttribute("..customer"), source=SEASONAL_SOURCE
    )
