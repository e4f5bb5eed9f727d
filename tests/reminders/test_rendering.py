"""check_service_due renders each distinct email once and puts each customer's short
name in (retention.emails.EmailStencil): the emails it queues are byte for byte what
build_email renders for each customer on their own."""

import datetime as dt
import io

import pytest
from django.urls import reverse

from outbox.compose import build_email
from outbox.consent import Kind
from outbox.models import OutboundEmail
from outbox.stencil import EmailStencil
from reminders.service_due import TEMPLATE, check_service_due, service_context
from retention.links import absolute_url
from retention.models import User
from retention.models.people import short_name
from retention.scheduling import JobContext
from tests.factories import CustomerFactory, ProviderFactory, job_due_on

TODAY = dt.date(2026, 6, 15)

NAMES = [
    ("zoe@example.com", "<b>Zoë&\"'</b> Smith"),  # markup and quotes in the first word
    ("madonna@example.com", "Madonna"),  # one word
    ("o'brien+x@example.com", ""),  # no name: the email address is the short name
    ("tab@example.com", "\tJean-Luc\u00a0\u2003Picard "),  # leading tab, non-breaking and em spaces
    ("amp@example.com", "A&amp;B"),  # already looks escaped
    ("blank@example.com", "   "),  # only whitespace: the email address
    ("sep@example.com", "Ann\x1eMarie"),  # an ASCII separator, which str.split() splits on
]


def expected(customer, services: list[dict]) -> tuple[str, str, str]:
    """The email as build_email renders it for this customer alone."""
    email = build_email(
        template=TEMPLATE,
        customer=customer,
        kind=Kind.REMINDER,
        idempotency_key="x",
        context={"services": services, "services_url": absolute_url(reverse("portal:services"))},
    )
    return email.subject, email.text_body, email.html_body


@pytest.mark.django_db
@pytest.mark.parametrize("email,name", NAMES)
@pytest.mark.parametrize("several", [False, True], ids=["one service", "several services"])
def test_queued_email_is_what_build_email_renders_for_the_customer(
    email, name, several, service_types
):
    customer = CustomerFactory(user__email=email, user__name=name)
    provider = ProviderFactory(business_name='Pools & <Lawns> "R" Us', phone="(555) 0199")
    due = [(service_types["lawn-care"], TODAY + dt.timedelta(days=2))]
    if several:
        due += [
            (service_types["pest-control"], TODAY - dt.timedelta(days=5)),
            (service_types["pool-service"], TODAY),
        ]
    for service_type, due_on in due:
        job_due_on(customer=customer, service_type=service_type, provider=provider, due_on=due_on)
    ctx = JobContext(
        name="check_service_due", as_of=TODAY, dry_run=False, progress_stream=io.StringIO()
    )

    check_service_due(ctx)

    queued = OutboundEmail.objects.get(customer=customer)
    services = [
        service_context(
            (service_type.name, due_on, provider.business_name, provider.phone, service_type.slug),
            TODAY,
        )
        for service_type, due_on in sorted(due, key=lambda pair: pair[1])
    ]
    assert (queued.subject, queued.text_body, queued.html_body) == expected(customer, services)
    assert queued.to_email == email


@pytest.mark.django_db
def test_many_customers_share_one_rendering(service_types):
    """Customers due the same service on the same day get the same email, each with
    their own name (and the rendering is reused, not redone)."""
    provider = ProviderFactory()
    customers = [CustomerFactory(user__email=email, user__name=name) for email, name in NAMES]
    for customer in customers:
        job_due_on(
            customer=customer,
            service_type=service_types["lawn-care"],
            provider=provider,
            due_on=TODAY,
        )
    ctx = JobContext(
        name="check_service_due", as_of=TODAY, dry_run=False, progress_stream=io.StringIO()
    )

    check_service_due(ctx)

    for customer in customers:
        queued = OutboundEmail.objects.get(customer=customer)
        services = [
            service_context(
                ("Lawn Care", TODAY, provider.business_name, provider.phone, "lawn-care"), TODAY
            )
        ]
        assert (queued.subject, queued.text_body, queued.html_body) == expected(customer, services)


@pytest.mark.django_db
def test_the_slot_survives_rendering_whole(customer):
    """Neither autoescape nor the subject's whitespace clean-up may break a slot, or
    the substitution would silently miss."""
    stencil = EmailStencil.render(
        template=TEMPLATE, kind=Kind.REMINDER, context={"services": [], "services_url": "http://x"}
    )
    slot = "\ue000short_name\ue000"
    assert stencil.text_body.count(slot) == 1 and stencil.html_body.count(slot) == 1
    subject, text, html = stencil.fill(short_name=short_name(customer.user.name, customer.user.email))
    assert slot not in subject + text + html
    assert "Hi Casey," in text


@pytest.mark.parametrize("email,name", NAMES)
def test_short_name_is_the_users(email, name):
    assert short_name(name, email) == User(email=email, name=name).get_short_name()


@pytest.mark.django_db
def test_each_service_names_its_own_provider(service_types):
    """The providers are slots of the rendering: an email listing services done by
    different providers names each one, escaped as build_email escapes them."""
    customer = CustomerFactory(user__email="multi@example.com", user__name="Multi Provider")
    due = [
        (service_types["pest-control"], TODAY - dt.timedelta(days=5), ProviderFactory(business_name="Bugs & <Co>", phone="555-0101")),
        (service_types["pool-service"], TODAY, ProviderFactory(business_name='"Splash" Pools', phone="+1 (555) 0102")),
        (service_types["lawn-care"], TODAY + dt.timedelta(days=2), ProviderFactory(business_name="O'Mow", phone="555 0103")),
    ]
    for service_type, due_on, provider in due:
        job_due_on(customer=customer, service_type=service_type, provider=provider, due_on=due_on)
    ctx = JobContext(
        name="check_service_due", as_of=TODAY, dry_run=False, progress_stream=io.StringIO()
    )

    check_service_due(ctx)

    queued = OutboundEmail.objects.get(customer=customer)
    services = [
        service_context((st.name, due_on, p.business_name, p.phone, st.slug), TODAY)
        for st, due_on, p in due
    ]
    assert (queued.subject, queued.text_body, queued.html_body) == expected(customer, services)
    assert "\ue000" not in queued.text_body + queued.html_body


@pytest.mark.django_db
def test_renderings_do_not_grow_with_providers_or_dates(service_types, monkeypatch):
    """Customers due the same service with 30 different providers on different days
    share one rendering; each email still names its customer's provider and date."""
    from reminders import service_due

    renderings = []

    class CountingStencil(EmailStencil):
        @classmethod
        def render(cls, **kwargs):
            renderings.append(kwargs["context"]["services"][0]["name"])
            return EmailStencil.render(**kwargs)

    monkeypatch.setattr(service_due, "EmailStencil", CountingStencil)
    pairs = []
    for i in range(30):
        customer = CustomerFactory()
        provider = ProviderFactory(business_name=f"Provider {i}", phone=f"555-01{i:02d}")
        due_on = TODAY + dt.timedelta(days=i % 34 - 30)
        job_due_on(customer=customer, service_type=service_types["lawn-care"], provider=provider, due_on=due_on)
        pairs.append((customer, provider, due_on))
    ctx = JobContext(
        name="check_service_due", as_of=TODAY, dry_run=False, progress_stream=io.StringIO()
    )

    check_service_due(ctx)

    assert renderings == ["Lawn Care"]
    for customer, provider, due_on in pairs:
        queued = OutboundEmail.objects.get(customer=customer)
        assert f"Provider: {provider.business_name}, {provider.phone}" in queued.text_body
        services = [service_context(("Lawn Care", due_on, provider.business_name, provider.phone, "lawn-care"), TODAY)]
        assert (queued.subject, queued.text_body, queued.html_body) == expected(customer, services)
