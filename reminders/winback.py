"""The daily win-back job (check_inactive_customers).

A customer whose last booking is WINBACK_INACTIVE_DAYS or more old, with nothing
scheduled ahead, opted in to marketing, under the marketing frequency cap and not
sent a win-back in the last WINBACK_COOLDOWN_DAYS gets a personal promo code, the
win-back email, a notification and a WinbackSend record, written in one transaction
per batch. The cap is retention.emails.marketing_capped (marketing email queued, sending or
sent), so seasonal and win-back emails share it. A booking ends win-back: it is the new
last booking.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from retention.clock import business_today, start_of_business_day
from retention.emails import Kind, build_email, marketing_capped, marketing_email_lock
from retention.links import booking_url
from retention.models import Customer, Job, Notification, OutboundEmail, PromoCode
from retention.promo import code_expiry
from retention.scheduling import JobContext

from .models import WinbackSend
from .selectors import last_booking_at

TEMPLATE = "winback"


def as_of_moment(as_of: dt.date) -> dt.datetime:
    """Now, moved to the as-of day: `--date` tomorrow judges cap and cooldown as the
    run at this time tomorrow would."""
    return timezone.now() + (as_of - business_today())


def scheduled_ahead(as_of: dt.date) -> Exists:
    return Exists(
        Job.objects.filter(customer_id=OuterRef("pk"), status=Job.Status.SCHEDULED, scheduled_for__gte=as_of)
    )


def in_cooldown(moment: dt.datetime) -> Exists:
    return Exists(
        WinbackSend.objects.filter(
            customer_id=OuterRef("pk"), sent_at__gt=moment - dt.timedelta(days=settings.WINBACK_COOLDOWN_DAYS)
        )
    )


def inactive_customers(as_of: dt.date) -> QuerySet:
    """Customers whose last booking is old enough. Booked on business day D is
    "90 days old" from D + 90 on. A deactivated account (user.is_active off) is never a
    candidate, so it is not counted here either."""
    booked_before = start_of_business_day(as_of - dt.timedelta(days=settings.WINBACK_INACTIVE_DAYS - 1))
    return Customer.objects.annotate(last_booking_at=last_booking_at()).filter(
        last_booking_at__lt=booked_before, user__is_active=True
    )


def winback_targets(as_of: dt.date, *, moment: dt.datetime) -> QuerySet:
    return inactive_customers(as_of).filter(
        ~scheduled_ahead(as_of), ~in_cooldown(moment), ~marketing_capped(moment), marketing_opt_in=True
    )


def count_by_reason(as_of: dt.date, *, moment: dt.datetime) -> dict:
    """The inactive customers and why the others are skipped, in one query. A
    customer is counted under the first reason that applies, in this order."""
    ahead, opted_out = Q(scheduled_ahead(as_of)), Q(marketing_opt_in=False)
    cooldown, capped = Q(in_cooldown(moment)), Q(marketing_capped(moment))
    return inactive_customers(as_of).aggregate(
        inactive=Count("pk"),
        scheduledAhead=Count("pk", filter=ahead),
        optedOut=Count("pk", filter=~ahead & opted_out),
        cooldown=Count("pk", filter=~ahead & ~opted_out & cooldown),
        marketingCap=Count("pk", filter=~ahead & ~opted_out & ~cooldown & capped),
    )


def winback_batch(*, as_of: dt.date, moment: dt.datetime, customer_ids: list[int]) -> int:
    """Issues codes and queues the emails for these customers in one transaction,
    checking eligibility again inside it. Returns how many were sent a win-back."""
    now = timezone.now()
    # Valid through the end of the business day WINBACK_CODE_VALID_DAYS after as_of
    # (so a --date run issues the code that run would have).
    valid_through = as_of + dt.timedelta(days=settings.WINBACK_CODE_VALID_DAYS)
    expires_at = code_expiry(valid_through)
    percent = Decimal(settings.WINBACK_DISCOUNT_PERCENT)
    with transaction.atomic():
        customers = list(
            winback_targets(as_of, moment=moment).filter(pk__in=customer_ids).select_related("user").order_by("pk")
        )
        promos = PromoCode.objects.bulk_create(
            PromoCode(
                customer=customer,
                source=PromoCode.Source.WINBACK,
                discount_type=PromoCode.DiscountType.PERCENT,
                discount_value=percent,
                expires_at=expires_at,
                created_at=now,
            )
            for customer in customers
        )
        sends = WinbackSend.objects.bulk_create(
            WinbackSend(customer=customer, promo_code=promo, sent_at=now, sent_on=as_of)
            for customer, promo in zip(customers, promos, strict=True)
        )
        notifications, emails = [], []
        for customer, promo, send in zip(customers, promos, sends, strict=True):
            notifications.append(
                Notification(
                    customer=customer,
                    kind=Notification.Kind.WINBACK,
                    title=f"We miss you: {promo.label} your next service",
                    message=f"Use code {promo.code} by {valid_through:%B %-d}.",
                    action_url=booking_url(code=promo.code),
                    created_at=now,
                )
            )
            emails.append(
                build_email(
                    template=TEMPLATE,
                    customer=customer,
                    kind=Kind.MARKETING,
                    idempotency_key=f"{TEMPLATE}/{send.pk}",
                    context={
                        "promo": promo,
                        "expires_on": valid_through,
                        "book_url": booking_url(code=promo.code, absolute=True),
                    },
                )
            )
        Notification.objects.bulk_create(notifications)
        OutboundEmail.objects.bulk_create(emails, ignore_conflicts=True)
    return len(customers)


def check_inactive_customers(ctx: JobContext, *, batch_size: int | None = None) -> None:
    """The selection-and-write phase of check_inactive_customers (delivery is the caller's)."""
    batch_size = batch_size or settings.JOB_BATCH_SIZE
    moment = as_of_moment(ctx.as_of)
    counts = count_by_reason(ctx.as_of, moment=moment)
    skipped = {key: counts[key] for key in ("scheduledAhead", "optedOut", "cooldown", "marketingCap")}
    target_ids = list(winback_targets(ctx.as_of, moment=moment).order_by("pk").values_list("pk", flat=True))
    ctx.stats.update(
        inactive=counts["inactive"],
        eligible=len(target_ids),
        skipped=sum(skipped.values()),
        skippedByReason=skipped,
    )
    ctx.progress(f"{counts['inactive']} inactive customer(s), {len(target_ids)} to win back")
    if ctx.dry_run:
        return
    with marketing_email_lock():  # seasonal waits (and re-checks the cap) until we are done
        for start in range(0, len(target_ids), batch_size):
            batch = target_ids[start : start + batch_size]
            try:
                sent = winback_batch(as_of=ctx.as_of, moment=moment, customer_ids=batch)
            except Exception as exc:  # one bad batch must not stop the rest; it is retried tomorrow
                ctx.stats["failed"] += len(batch)
                ctx.stats.setdefault("errors", []).append(f"{type(exc).__name__}: {exc}")
                ctx.progress(f"batch of {len(batch)} customer(s) failed: {exc}")
                continue
            ctx.stats["sent"] += sent
            if stale := len(batch) - sent:  # stopped being eligible since selection (a booking)
                ctx.stats["skipped"] += stale
                skipped["noLongerEligible"] = skipped.get("noLongerEligible", 0) + stale
            ctx.progress(f"won back {ctx.stats['sent']}/{len(target_ids)} customer(s)")
