"""The daily win-back job (check_inactive_customers).

A customer whose last booking is WINBACK_INACTIVE_DAYS or more old, with nothing
scheduled ahead, opted in to marketing, under the marketing frequency cap and not
sent a win-back within WINBACK_COOLDOWN_DAYS gets a personal promo code, the
win-back email, a notification and a WinbackSend record. The cap is
outbox.consent.marketing_capped (marketing email queued, sending or sent), so
seasonal and win-back emails share it. Cap and cooldown count by the as-of day each
email and send records (PRODUCT.md "Time"), so a `--date` run behaves as that day's
run would. A booking ends win-back: it is the new last booking.

Each batch is written by one statement in its own transaction, as the seasonal job
writes its batches (outbox.offers, outbox.batch_queue): the codes, the sends, the notifications and
the outbox rows, from arrays of per-customer values, re-checking each customer's
eligibility inside it. The email is rendered once per run (an EmailStencil) and each
customer's code, booking link, name and unsubscribe link are filled in by the
database. So the job costs a fixed number of queries plus one statement per batch.

Holdout groups (experiments.assign): of the targets, WINBACK_HOLDOUT_PERCENT are held
out by a stable hash of customer and month; the same batch statement records them and
sends them nothing. A customer held out is in cooldown as if sent a win-back
("alreadyHeldOut"), so they are not drawn again every day.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from experiments.assign import Holdout, held_out_of_winback_since, holdout_for, winback_season
from experiments.models import Send
from outbox.consent import Kind, marketing_capped, marketing_email_lock
from outbox.offers import (
    CODE_PLACEHOLDER,
    Offer,
    Recipient,
    correlated_sql,
    offer_values,
    write_offers,
)
from outbox.stencil import EmailStencil
from retention.bulk import Same
from retention.links import booking_url
from retention.models import Customer, PromoCode
from retention.promo import code_expiry
from retention.scheduling import JobContext

from .models import WINBACK_NOTICE, WINBACK_SOURCE, WinbackSend
from .selectors import active_ahead, in_churn_stage, last_booking_at

TEMPLATE = "winback"


def in_cooldown(as_of: dt.date) -> Exists:
    """Sent a win-back fewer than WINBACK_COOLDOWN_DAYS from `as_of`, by the as-of day
    recorded on each send (sent_on), never the wall clock: on either side, so a catch-up
    run for an earlier day respects what later days' runs sent, and the same day run
    again finds its own sends (winback_once_per_customer_day is never met)."""
    reach = dt.timedelta(days=settings.WINBACK_COOLDOWN_DAYS - 1)
    return Exists(
        WinbackSend.objects.filter(customer_id=OuterRef("pk"), sent_on__range=(as_of - reach, as_of + reach))
    )


def inactive_customers(as_of: dt.date) -> QuerySet:
    """Customers whose last booking is old enough: the churn view's "inactive" stage,
    which begins at WINBACK_INACTIVE_DAYS (reminders.selectors.churn_stages). A
    deactivated account (user.is_active off) is never a candidate, so it is not counted
    here either."""
    return Customer.objects.annotate(last_booking_at=last_booking_at()).filter(
        in_churn_stage("inactive", as_of), user__is_active=True
    )


def winback_holdout(as_of: dt.date) -> Holdout | None:
    """The run's holdout group (None when WINBACK_HOLDOUT_PERCENT is 0 or staff ended it)."""
    return holdout_for(send=Send.WINBACK, season=winback_season(as_of), as_of=as_of)


def held_out_recently(as_of: dt.date, holdout: Holdout | None) -> Exists | None:
    """Held out of win-back within the cooldown: as good as sent, for the cooldown.
    None when the run keeps no holdout."""
    return held_out_of_winback_since(holdout, as_of, settings.WINBACK_COOLDOWN_DAYS)


def winback_targets(as_of: dt.date, *, holdout: Holdout | None = None) -> QuerySet:
    targets = inactive_customers(as_of).filter(
        ~active_ahead(as_of), ~in_cooldown(as_of), ~marketing_capped(as_of), marketing_opt_in=True
    )
    if (held := held_out_recently(as_of, holdout)) is not None:
        targets = targets.filter(~held)
    return targets


def count_by_reason(as_of: dt.date, *, holdout: Holdout | None = None) -> dict:
    """The inactive customers and why the others are skipped, in one query. A
    customer is counted under the first reason that applies, in this order."""
    ahead, opted_out = active_ahead(as_of), Q(marketing_opt_in=False)
    cooldown, capped = Q(in_cooldown(as_of)), Q(marketing_capped(as_of))
    counts = {
        "inactive": Count("pk"),
        "scheduledAhead": Count("pk", filter=ahead),
        "optedOut": Count("pk", filter=~ahead & opted_out),
        "cooldown": Count("pk", filter=~ahead & ~opted_out & cooldown),
        "marketingCap": Count("pk", filter=~ahead & ~opted_out & ~cooldown & capped),
    }
    if (held := held_out_recently(as_of, holdout)) is not None:
        counts["alreadyHeldOut"] = Count("pk", filter=~ahead & ~opted_out & ~cooldown & ~capped & Q(held))
    return inactive_customers(as_of).aggregate(**counts)


@dataclass
class WinbackRun:
    """One run of the job: the facts every batch of it shares."""

    as_of: dt.date
    holdout: Holdout | None = None  # None: every target is mailed

    @property
    def valid_through(self) -> dt.date:
        # Through the end of the business day WINBACK_CODE_VALID_DAYS after as_of (so a
        # --date run issues the code that run would have).
        return self.as_of + dt.timedelta(days=settings.WINBACK_CODE_VALID_DAYS)

    @property
    def expires_at(self) -> dt.datetime:
        return code_expiry(self.valid_through)

    @cached_property
    def discount(self) -> Decimal:
        return Decimal(settings.WINBACK_DISCOUNT_PERCENT)

    @cached_property
    def label(self) -> str:
        """What every code of the run takes off ("15% off"), as PromoCode.label says it."""
        code = PromoCode(discount_type=PromoCode.DiscountType.PERCENT, discount_value=self.discount)
        return code.label

    def email_context(self, *, code: str, book_url: str) -> dict:
        """The email's context, for a customer's code and booking link: the job passes
        the stencil's slots, the staff preview (reminders.emails) sample values. The
        templates print `promo.label` and `promo.code`: the run's label, the code."""
        return {"promo": {"label": self.label, "code": code}, "expires_on": self.valid_through, "book_url": book_url}

    @cached_property
    def email(self) -> EmailStencil:
        """The email, rendered once; each customer's code and booking link are slots."""
        slot = EmailStencil.slot
        return EmailStencil.render(
            template=TEMPLATE,
            kind=Kind.MARKETING,
            context=self.email_context(code=slot("code"), book_url=slot("book_url")),
            slots=("code", "book_url"),
        )

    @cached_property
    def offer(self) -> Offer:
        """What every batch writes, worked out once."""
        return Offer(
            source=WINBACK_SOURCE,
            as_of=self.as_of,
            discount_percent=self.discount,
            expires_at=self.expires_at,
            service_types=[],  # any service
            book_path=booking_url(code=CODE_PLACEHOLDER),
            notification_kind=WINBACK_NOTICE,
            notification_title=self.notification_title,
            notification_message=self.notification_message(CODE_PLACEHOLDER),
            email=self.email,
            email_key="winback",
            still_eligible_sql=correlated_sql(winback_targets(self.as_of, holdout=self.holdout)),
            send_model=WinbackSend,
            send_values={"sent_at": "%(now)s", "sent_on": Same(self.as_of)},
            **(
                {
                    "record_assignments_sql": self.holdout.record_sql,
                    "record_assignments_params": self.holdout.record_params,
                }
                if self.holdout
                else {}
            ),
        )

    @property
    def notification_title(self) -> str:
        return f"We miss you: {self.label} your next service"

    def notification_message(self, code: str) -> str:
        return f"Use code {code} by {self.valid_through:%B %-d}."


def check_inactive_customers(ctx: JobContext, *, batch_size: int | None = None) -> None:
    """The selection-and-write phase of check_inactive_customers (delivery is the caller's)."""
    batch_size = batch_size or settings.JOB_BATCH_SIZE
    holdout = winback_holdout(ctx.as_of)
    ctx.stats["heldOut"] = 0

    def select() -> tuple[list[Recipient], dict[str, int]]:
        counts = count_by_reason(ctx.as_of, holdout=holdout)
        reasons = ("scheduledAhead", "optedOut", "cooldown", "marketingCap", "alreadyHeldOut")
        skipped = {key: counts[key] for key in reasons if key in counts}
        targets = [
            Recipient(*row)
            for row in winback_targets(ctx.as_of, holdout=holdout)
            .order_by("pk")
            .values_list("pk", "user__email", "user__name")
        ]
        ctx.stats.update(
            inactive=counts["inactive"],
            eligible=len(targets),
            skipped=sum(skipped.values()),
            skippedByReason=skipped,
        )
        ctx.progress(f"{counts['inactive']} inactive customer(s), {len(targets)} to win back")
        return targets, skipped

    if ctx.dry_run:
        targets, _ = select()
        if holdout is not None:
            ctx.stats["heldOut"] = sum(holdout.holds_out(target.customer_id) for target in targets)
        return
    run = WinbackRun(as_of=ctx.as_of, holdout=holdout)
    with marketing_email_lock():  # seasonal waits (and re-checks the cap) until we are done
        targets, skipped = select()  # under the lock, so a seasonal run just before us is counted
        for start in range(0, len(targets), batch_size):
            batch = targets[start : start + batch_size]
            # Those to mail, and the ids of those held out (experiments.assign).
            mailed, held_out = holdout.split(batch) if holdout else (batch, [])
            try:
                columns = offer_values(run.offer, mailed)  # before the transaction: no database
                with transaction.atomic():
                    sent, held = write_offers(run.offer, columns, held_out)
            except Exception as exc:  # one bad batch must not stop the rest; it is retried tomorrow
                ctx.stats["failed"] += len(batch)
                ctx.stats.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}")
                ctx.progress(f"batch of {len(batch)} customer(s) failed: {exc}")
                continue
            ctx.stats["sent"] += sent
            ctx.stats["heldOut"] += held
            if stale := len(batch) - sent - held:  # stopped being eligible since selection (a booking)
                ctx.stats["skipped"] += stale
                skipped["noLongerEligible"] = skipped.get("noLongerEligible", 0) + stale
            ctx.progress(f"won back {ctx.stats['sent']}/{len(targets)} customer(s)")
