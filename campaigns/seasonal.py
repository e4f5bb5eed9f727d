"""The weekly seasonal email: who is eligible for the running campaign, and sending
them a personal promo code, a notification and the email, a batch at a time.

Eligible (PRODUCT.md): last booking 30+ days ago, nothing scheduled ahead, no active
promo code, opted in to marketing, under the marketing frequency cap, and not already
sent this campaign this season. Selection is one set-based query for the eligible ids,
then one query per batch to load (and re-check) its customers; each batch is written
in one transaction with bulk inserts, so the number of queries grows with the number
of batches, never with customers.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Case, CharField, Count, Exists, OuterRef, Q, QuerySet, Value, When
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.formats import date_format

from retention.clock import business_today, start_of_business_day
from retention.emails import build_email, marketing_capped, marketing_email_lock
from retention.links import absolute_url, booking_url
from retention.models import Customer, Job, Notification, OutboundEmail, PromoCode, ServiceType
from retention.promo import code_expiry
from retention.scheduling import JobContext, deliver_queued

from .models import Campaign, CampaignSend
from .selectors import active_campaign

JOB_NAME = "send_seasonal_reminders"
EMAIL_TEMPLATE = "seasonal_offer"
MIN_DAYS_SINCE_BOOKING = 30

# Why a customer is skipped, in the order they are tested: a customer is counted
# under the first reason that applies.
SKIP_REASONS = [
    ("neverBooked", Q(has_booking=False)),
    ("bookedRecently", Q(booked_recently=True)),
    ("scheduledAhead", Q(scheduled_ahead=True)),
    ("activePromoCode", Q(has_active_code=True)),
    ("optedOut", Q(marketing_opt_in=False) | Q(user__is_active=False)),
    ("marketingCap", Q(marketing_capped=True)),
    ("alreadySent", Q(already_sent=True)),
]


@dataclass
class SeasonalRun:
    """One run of the campaign: the facts every batch of it shares."""

    campaign: Campaign
    season_year: int
    as_of: dt.date
    moment: dt.datetime  # "now" for expiry and the frequency cap
    service_types: tuple[ServiceType, ...]

    @cached_property
    def email_context(self) -> dict:
        """What every customer's email shares, worked out once per run rather than
        in the templates for each customer (rendering is most of the job's time)."""
        return {
            "campaign": self.campaign,
            "discount_percent": self.campaign.discount_percent,
            "services_label": ", ".join(s.name for s in self.service_types) or "any service",
            "valid_through": date_format(self.valid_through, "F j, Y"),
            "description_html": linebreaksbr(self.campaign.description, autoescape=True),
        }

    @property
    def valid_through(self) -> dt.date:
        return self.as_of + dt.timedelta(days=self.campaign.promo_valid_days)

    @property
    def expires_at(self) -> dt.datetime:
        return code_expiry(self.valid_through)

    def booking_path(self, code: str) -> str:
        """The "Schedule Services" link: the first covered service chosen, the code filled in."""
        return booking_url(service=self.service_types[0] if self.service_types else None, code=code)


def start_run(*, as_of: dt.date) -> SeasonalRun | None:
    campaign = active_campaign(on=as_of)
    if campaign is None:
        return None
    # A run for today uses the present moment; a run --date'd elsewhere uses the
    # start of that business day, so results do not depend on when it is replayed.
    moment = timezone.now() if as_of == business_today() else start_of_business_day(as_of)
    return SeasonalRun(
        campaign=campaign,
        season_year=campaign.season_year(as_of),
        as_of=as_of,
        moment=moment,
        service_types=tuple(campaign.service_types.order_by("name")),
    )


def customers_with_flags(run: SeasonalRun) -> QuerySet[Customer]:
    """Every customer, annotated with each eligibility test as a boolean (in SQL)."""
    jobs = Job.objects.filter(customer=OuterRef("pk"))
    recent_cutoff = start_of_business_day(run.as_of - dt.timedelta(days=MIN_DAYS_SINCE_BOOKING - 1))
    return Customer.objects.annotate(
        has_booking=Exists(jobs),
        booked_recently=Exists(jobs.filter(created_at__gte=recent_cutoff)),
        scheduled_ahead=Exists(jobs.filter(status=Job.Status.SCHEDULED, scheduled_for__gte=run.as_of)),
        has_active_code=Exists(
            PromoCode.objects.filter(customer=OuterRef("pk"), used_at__isnull=True, expires_at__gt=run.moment)
        ),
        marketing_capped=marketing_capped(run.moment),
        already_sent=Exists(
            CampaignSend.objects.filter(
                customer=OuterRef("pk"), campaign=run.campaign, season_year=run.season_year
            )
        ),
    )


def eligible_customers(run: SeasonalRun) -> QuerySet[Customer]:
    return customers_with_flags(run).filter(
        has_booking=True,
        booked_recently=False,
        scheduled_ahead=False,
        has_active_code=False,
        marketing_opt_in=True,
        user__is_active=True,
        marketing_capped=False,
        already_sent=False,
    )


def count_by_reason(run: SeasonalRun) -> tuple[int, dict[str, int]]:
    """(eligible, skipped by reason) over every customer, in one query."""
    reason = Case(
        *(When(condition, then=Value(name)) for name, condition in SKIP_REASONS),
        default=Value("eligible"),
        output_field=CharField(),
    )
    rows = customers_with_flags(run).annotate(reason=reason).values("reason").annotate(n=Count("pk"))
    counts = {row["reason"]: row["n"] for row in rows.order_by()}
    return counts.pop("eligible", 0), {name: counts.get(name, 0) for name, _ in SKIP_REASONS}


def eligible_batches(run: SeasonalRun, *, size: int):
    """Lists of eligible customers, `size` at a time, in id order.

    The eligible ids are found once, in one set-based query (PostgreSQL plans the
    anti-joins over whole tables). Each batch is then loaded by id with the same
    conditions re-checked, which is a handful of index probes per customer, so a
    customer who booked or got a code since the start is left out. (Paging through
    the eligibility query itself with `id > last` made PostgreSQL re-scan the rest of
    every table for each batch: quadratic.)
    """
    ids = list(eligible_customers(run).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), size):
        batch = list(
            eligible_customers(run).filter(pk__in=ids[start : start + size]).select_related("user").order_by("pk")
        )
        if batch:
            yield batch


def send_batch(run: SeasonalRun, customers: list[Customer]) -> int:
    """Writes codes, sends, notifications and emails for a batch, in one transaction.

    Seven statements whatever the batch size. A batch that meets an existing send
    (the unique constraint) rolls back whole, so no code exists without its send.
    """
    campaign = run.campaign
    now = timezone.now()
    discount = Decimal(campaign.discount_percent)
    with transaction.atomic():
        codes = PromoCode.objects.bulk_create(
            [
                PromoCode(
                    customer=customer,
                    source=PromoCode.Source.SEASONAL,
                    discount_type=PromoCode.DiscountType.PERCENT,
                    discount_value=discount,
                    expires_at=run.expires_at,
                    created_at=now,
                )
                for customer in customers
            ]
        )
        if run.service_types:
            Covered = PromoCode.service_types.through
            Covered.objects.bulk_create(
                [Covered(promocode_id=code.pk, servicetype_id=s.pk) for code in codes for s in run.service_types]
            )
        sends = CampaignSend.objects.bulk_create(
            [
                CampaignSend(
                    campaign=campaign, customer=customer, season_year=run.season_year, promo_code=code, sent_at=now
                )
                for customer, code in zip(customers, codes, strict=True)
            ]
        )
        paths = [run.booking_path(code.code) for code in codes]
        Notification.objects.bulk_create(
            [
                Notification(
                    customer=customer,
                    kind=Notification.Kind.SEASONAL,
                    title=f"{campaign.emoji} {campaign.title}: {campaign.discount_percent}% off",
                    message=(
                        f"Your personal code {code.code} takes {campaign.discount_percent}% off "
                        f"until {run.valid_through:%B} {run.valid_through.day}."
                    ),
                    action_url=path,
                    created_at=now,
                )
                for customer, code, path in zip(customers, codes, paths, strict=True)
            ]
        )
        OutboundEmail.objects.bulk_create(
            [
                build_email(
                    template=EMAIL_TEMPLATE,
                    customer=customer,
                    kind=OutboundEmail.Kind.MARKETING,
                    idempotency_key=f"seasonal/{send.pk}",
                    context={**run.email_context, "code": code.code, "book_url": absolute_url(path)},
                )
                for customer, code, send, path in zip(customers, codes, sends, paths, strict=True)
            ],
            ignore_conflicts=True,
        )
    return len(sends)


def send_seasonal_reminders(ctx: JobContext) -> None:
    """The job: queue the campaign's codes and emails, then deliver the outbox."""
    queue_seasonal_offers(ctx)
    if not ctx.dry_run and ctx.stats["campaign"] is not None:
        deliver_queued(ctx, template=EMAIL_TEMPLATE)


def queue_seasonal_offers(ctx: JobContext) -> None:
    """The selection-and-write phase: pick the campaign for ctx.as_of and write each
    eligible customer's code, send, notification and email, in batches."""
    stats = ctx.stats
    stats.update(campaign=None, seasonYear=None, codesCreated=0, batches=0, skippedByReason={})
    run = start_run(as_of=ctx.as_of)
    if run is None:
        ctx.progress(f"no active campaign covers {ctx.as_of:%B}; nothing to send")
        return
    campaign = run.campaign
    stats["campaign"] = {"id": str(campaign.id), "season": campaign.season, "title": campaign.title}
    stats["seasonYear"] = run.season_year
    def count() -> None:
        eligible, skipped = count_by_reason(run)
        stats.update(eligible=eligible, skipped=sum(skipped.values()), skippedByReason=skipped)
        ctx.progress(f"{campaign} ({run.season_year}): {eligible} eligible, {stats['skipped']} skipped")

    if ctx.dry_run:
        count()
        offer = f"{campaign.discount_percent}% off, valid through {run.valid_through.isoformat()}"
        for customer in eligible_customers(run).select_related("user").order_by("pk").iterator(chunk_size=2000):
            ctx.progress(f"would send {customer.email}: {offer}")
        return

    with marketing_email_lock():  # win-back waits (and re-checks the cap) until we are done
        count()  # under the lock, so a win-back run just before us is already counted
        for batch in eligible_batches(run, size=settings.JOB_BATCH_SIZE):
            stats["batches"] += 1
            try:
                written = send_batch(run, batch)
            except DatabaseError as exc:
                stats["failed"] += len(batch)
                ctx.progress(f"batch {stats['batches']} failed and was rolled back: {exc}")
                continue
            stats["sent"] += written
            stats["codesCreated"] += written
            ctx.progress(f"batch {stats['batches']}: sent {written} (total {stats['sent']})")
