"""The weekly seasonal email: who is eligible for the running campaign, and sending
them a personal promo code, a notification and the email, a batch at a time.

Eligible (PRODUCT.md): last booking 30+ days ago, nothing scheduled ahead, no active
promo code, opted in to marketing, under the marketing frequency cap, and not already
sent this campaign this season. The rules are written once (skip_rules) and asked two
ways: over every customer at once, for the counts by reason and the eligible
customers (one scan per rule, combined in Python), and for one batch of ids (index
probes), to re-check it in the statement that writes it.

Each batch is written by one statement (outbox.offers, outbox.batch_queue): the promo codes,
their service types, the sends, the notifications and the outbox rows, from arrays of
per-customer values. The email is rendered once per run (an EmailStencil) and each
customer's code, link and name are filled in by the database. So the job costs a
fixed number of queries plus one statement per batch (in its own transaction), and no
Python object per row but the values themselves.

Holdout groups (experiments.assign): of the eligible customers, SEASONAL_HOLDOUT_PERCENT
are held out by a stable hash of customer, campaign and season year; the same batch
statement records them (and the mailed ones) and sends them nothing. Held out this
season, a customer is skipped as "alreadyHeldOut" on the later weeks' runs.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.template.defaultfilters import linebreaksbr
from django.utils import timezone
from django.utils.formats import date_format

from experiments.assign import Holdout, held_out_of_season, holdout_for
from experiments.models import Send
from outbox.consent import Kind, marketing_email_lock, recent_marketing
from outbox.delivery import deliver_queued
from outbox.offers import (
    CODE_PLACEHOLDER,
    Offer,
    Recipient,
    correlated_sql,
    made_ahead,
    offer_values,
    write_offers,
)
from outbox.stencil import EmailStencil
from retention.bulk import Same
from retention.clock import business_today, start_of_business_day
from retention.links import booking_url
from retention.models import Customer, Job, PromoCode, ServiceType, scheduled_ahead
from retention.promo import code_expiry
from retention.scheduling import JobContext

from .models import SEASONAL_NOTICE, SEASONAL_SOURCE, Campaign, CampaignSend
from .selectors import active_campaign

JOB_NAME = "send_seasonal_reminders"
EMAIL_TEMPLATE = "seasonal_offer"
MIN_DAYS_SINCE_BOOKING = 30


@dataclass
class SeasonalRun:
    """One run of the campaign: the facts every batch of it shares."""

    campaign: Campaign
    season_year: int
    as_of: dt.date
    moment: dt.datetime  # "now" for expiry and the frequency cap
    service_types: tuple[ServiceType, ...]
    holdout: Holdout | None = None  # None: everyone eligible is mailed

    def email_context(self, *, code: str, book_url: str) -> dict:
        """The email's context, for a customer's code and booking link: the job passes
        the stencil's slots, the staff preview (campaigns.emails) sample values."""
        return {
            "campaign": self.campaign,
            "discount_percent": self.campaign.discount_percent,
            "services_label": ", ".join(s.name for s in self.service_types) or "any service",
            "valid_through": date_format(self.valid_through, "F j, Y"),
            "description_html": linebreaksbr(self.campaign.description, autoescape=True),
            "code": code,
            "book_url": book_url,
        }

    @cached_property
    def email(self) -> EmailStencil:
        """The email, rendered once; each customer's code and booking link are slots."""
        slot = EmailStencil.slot
        return EmailStencil.render(
            template=EMAIL_TEMPLATE,
            kind=Kind.MARKETING,
            context=self.email_context(code=slot("code"), book_url=slot("book_url")),
            slots=("code", "book_url"),
        )

    @cached_property
    def offer(self) -> Offer:
        """What every batch writes, worked out once."""
        return Offer(
            source=SEASONAL_SOURCE,
            as_of=self.as_of,
            discount_percent=Decimal(self.campaign.discount_percent),
            expires_at=self.expires_at,
            service_types=[s.pk for s in self.service_types],
            book_path=self.booking_path(CODE_PLACEHOLDER),
            notification_kind=SEASONAL_NOTICE,
            notification_title=self.notification_title,
            notification_message=self.notification_message(CODE_PLACEHOLDER),
            email=self.email,
            email_key="seasonal",
            still_eligible_sql=correlated_sql(still_eligible(self)),
            send_model=CampaignSend,
            send_values={
                "campaign_id": Same(self.campaign.pk),
                "season_year": Same(self.season_year),
                "sent_at": "%(now)s",
            },
            **self.holdout_recording,
        )

    @property
    def holdout_recording(self) -> dict:
        """The Offer's fields recording the holdout group, if the run keeps one."""
        if self.holdout is None:
            return {}
        return {
            "record_assignments_sql": self.holdout.record_sql,
            "record_assignments_params": self.holdout.record_params,
        }

    @property
    def notification_title(self) -> str:
        return f"{self.campaign.emoji} {self.campaign.title}: {self.campaign.discount_percent}% off"

    def notification_message(self, code: str) -> str:
        return (
            f"Your personal code {code} takes {self.campaign.discount_percent}% off "
            f"until {self.valid_through:%B} {self.valid_through.day}."
        )

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
    season_year = campaign.season_year(as_of)
    return SeasonalRun(
        campaign=campaign,
        season_year=season_year,
        as_of=as_of,
        moment=moment,
        service_types=tuple(campaign.service_types.order_by("name")),
        holdout=holdout_for(send=Send.SEASONAL, campaign_id=campaign.pk, season=str(season_year), as_of=as_of),
    )


@dataclass(frozen=True)
class SkipRule:
    """Why a customer is skipped: they have a row in `rows`, a queryset with a
    customer_id; or, for `customer`, a condition on their own row. `settled` rules
    cannot change while the job runs, so batches do not re-check them."""

    reason: str
    rows: QuerySet | None = None
    customer: Q | None = None
    settled: bool = False

    def customer_ids(self) -> set[int]:
        """The ids of the customers this rule names (who have the rows, or meet the
        condition), in one scan of that table."""
        if self.customer is not None:
            return set(Customer.objects.filter(self.customer).values_list("pk", flat=True).order_by())
        return set(self.rows.values_list("customer_id", flat=True).order_by().distinct())

    def passed_by_each_customer(self) -> Exists:
        """The rule's opposite (the customer is not skipped for it) as a correlated
        NOT EXISTS, for re-checking a batch: AND-ed, these plan as anti-joins probing
        indexes. (Written as NOT (a OR b), or with a join to the user table,
        PostgreSQL read whole tables for every batch.)"""
        if self.customer is not None:
            return ~Exists(Customer.objects.filter(self.customer, pk=OuterRef("pk")))
        having = Exists(self.rows.filter(customer_id=OuterRef("pk")))
        return ~having


def skip_rules(run: SeasonalRun) -> list[SkipRule]:
    """The eligibility rules, in the order they are counted: a skipped customer is
    counted under the first reason that applies."""
    jobs = Job.objects.all()
    recent_cutoff = start_of_business_day(run.as_of - dt.timedelta(days=MIN_DAYS_SINCE_BOOKING - 1))
    rules = [
        # Settled: a booking is not undone.
        SkipRule("neverBooked", customer=~Exists(jobs.filter(customer_id=OuterRef("pk"))), settled=True),
        SkipRule("bookedRecently", jobs.filter(created_at__gte=recent_cutoff)),
        SkipRule("scheduledAhead", jobs.filter(scheduled_ahead(run.as_of))),
        SkipRule("activePromoCode", PromoCode.objects.filter(used_at__isnull=True, expires_at__gt=run.moment)),
        SkipRule("optedOut", customer=Q(marketing_opt_in=False) | Q(user__is_active=False)),
        # Settled: marketing email is queued only by this job and win-back, each holding
        # the marketing-email lock for its whole selection and writes.
        SkipRule("marketingCap", recent_marketing(run.as_of).filter(customer__isnull=False), settled=True),
        # Settled: only this job records sends, one copy at a time (and the database
        # refuses a second send for the season).
        SkipRule(
            "alreadySent",
            CampaignSend.objects.filter(campaign=run.campaign, season_year=run.season_year),
            settled=True,
        ),
    ]
    if run.holdout is not None:
        # Settled as sends are: held out this season stays held out (experiments).
        held_out = held_out_of_season(campaign_id=run.campaign.pk, season=str(run.season_year))
        rules.append(SkipRule("alreadyHeldOut", held_out, settled=True))
    return rules


def select_customers(run: SeasonalRun) -> tuple[list[Recipient], dict[str, int]]:
    """The eligible customers, in id order, and how many are skipped by reason.

    One query per rule for the set of customers it names, one for every customer:
    each a single scan, so this stays as cheap per customer at a million as at a
    thousand. (A CASE of `id IN (subquery)` per rule was 50x faster than EXISTS per
    customer at 10,000, then fell off a cliff once a subquery's hash outgrew work_mem.)
    """
    rules = [(rule, rule.customer_ids()) for rule in skip_rules(run)]
    eligible, skipped = [], dict.fromkeys((rule.reason for rule, _ in rules), 0)
    customers = Customer.objects.values_list("pk", "user__email", "user__name").order_by("pk")
    for pk, email, name in customers.iterator(chunk_size=10_000):
        for rule, ids in rules:
            if pk in ids:
                skipped[rule.reason] += 1
                break
        else:
            eligible.append(Recipient(pk, email, name))
    return eligible, skipped


def still_eligible(run: SeasonalRun) -> QuerySet[Customer]:
    """Customers who still pass the rules that can change during the run (a booking, a
    voucher, an opt-out), as index probes per customer: a batch's re-check."""
    return Customer.objects.filter(
        *(rule.passed_by_each_customer() for rule in skip_rules(run) if not rule.settled)
    )


def send_seasonal_reminders(ctx: JobContext) -> None:
    """The job: queue the campaign's codes and emails, then deliver the outbox."""
    queue_seasonal_offers(ctx)
    if not ctx.dry_run and ctx.stats["campaign"] is not None:
        deliver_queued(ctx, template=EMAIL_TEMPLATE)


def queue_seasonal_offers(ctx: JobContext) -> None:
    """The selection-and-write phase: pick the campaign for ctx.as_of and write each
    eligible customer's code, send, notification and email, in batches."""
    stats = ctx.stats
    stats.update(campaign=None, seasonYear=None, codesCreated=0, batches=0, heldOut=0, skippedByReason={})
    run = start_run(as_of=ctx.as_of)
    if run is None:
        ctx.progress(f"no active campaign covers {ctx.as_of:%B}; nothing to send")
        return
    campaign = run.campaign
    stats["campaign"] = {"id": str(campaign.id), "season": campaign.season, "title": campaign.title}
    stats["seasonYear"] = run.season_year

    def select() -> list[Recipient]:
        eligible, skipped = select_customers(run)
        stats.update(eligible=len(eligible), skipped=sum(skipped.values()), skippedByReason=skipped)
        ctx.progress(f"{campaign} ({run.season_year}): {len(eligible)} eligible, {stats['skipped']} skipped")
        return eligible

    if ctx.dry_run:
        offer = f"{campaign.discount_percent}% off, valid through {run.valid_through.isoformat()}"
        for recipient in select():
            if run.holdout is not None and run.holdout.holds_out(recipient.customer_id):
                stats["heldOut"] += 1
                ctx.progress(f"would hold out {recipient.email} (holdout group)")
            else:
                ctx.progress(f"would send {recipient.email}: {offer}")
        return

    size = settings.JOB_BATCH_SIZE
    run.offer  # rendered and compiled here, before a second thread reads it
    with marketing_email_lock():  # win-back waits (and re-checks the cap) until we are done
        eligible = select()  # under the lock, so a win-back run just before us is already counted
        batches = [eligible[start : start + size] for start in range(0, len(eligible), size)]
        # Each batch: those to mail, and the ids of those held out (experiments.assign).
        batches = [run.holdout.split(batch) if run.holdout else (batch, []) for batch in batches]
        for (mailed, held_out), columns in made_ahead(lambda b: offer_values(run.offer, b[0]), batches):
            stats["batches"] += 1
            try:
                with transaction.atomic():
                    written, held = write_offers(run.offer, columns, held_out)
            except DatabaseError as exc:
                stats["failed"] += len(mailed) + len(held_out)
                ctx.progress(f"batch {stats['batches']} failed and was rolled back: {exc}")
                continue
            # No longer eligible since the selection (a booking, a code)
            if stale := len(mailed) + len(held_out) - written - held:
                stats["skipped"] += stale
                skipped = stats["skippedByReason"]
                skipped["noLongerEligible"] = skipped.get("noLongerEligible", 0) + stale
            stats["sent"] += written
            stats["codesCreated"] += written
            stats["heldOut"] += held
            ctx.progress(f"batch {stats['batches']}: sent {written} (total {stats['sent']} of {len(eligible)})")
