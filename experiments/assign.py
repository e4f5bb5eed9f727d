"""Who is held out of a marketing send, and the SQL that records both sides.

Of the customers a seasonal or win-back run would mail, HOLDOUT_PERCENT (per send:
SEASONAL_HOLDOUT_PERCENT, WINBACK_HOLDOUT_PERCENT) are held out: no email, no code,
recorded as held out. Which ones is a stable hash of the customer, the send (the
campaign, or win-back) and its season (the campaign's season year, win-back's month),
so a re-run or a catch-up run of any day of that season puts every customer on the same
side. The hash is BLAKE2b (hashlib), not Python's hash(), which changes between
processes. Raising the percentage keeps everyone held out before held out (a customer
is held out when their bucket, 0-99, is below it).
"""

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from retention.clock import business_date

from .models import Assignment, HoldoutEnd, Send


def holdout_percent(send: str) -> int:
    """The share held out of this kind of send: its own setting, else HOLDOUT_PERCENT."""
    own = getattr(settings, f"{send.upper()}_HOLDOUT_PERCENT", None)
    return settings.HOLDOUT_PERCENT if own is None else own


def bucket(customer_id: int, *, send: str, campaign_id, season: str) -> int:
    """The customer's bucket (0-99) for one send and season: the same in every process
    and on every run."""
    key = f"{send}:{campaign_id or ''}:{season}:{customer_id}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest()) % 100


def holdout_ended_on(*, send: str, campaign_id=None) -> dt.date | None:
    """The business day staff ended this send's holdout, if they did."""
    ended = HoldoutEnd.objects.filter(send=send, campaign_id=campaign_id).values_list("ended_at", flat=True)
    ended_at = ended.first()
    return business_date(ended_at) if ended_at else None


@dataclass(frozen=True)
class Holdout:
    """A run's holdout: which send and season, as of which day, how many percent."""

    send: str
    campaign_id: object  # a Campaign's id, or None for win-back
    season: str
    as_of: dt.date
    percent: int

    def holds_out(self, customer_id: int) -> bool:
        return bucket(customer_id, send=self.send, campaign_id=self.campaign_id, season=self.season) < self.percent

    def split(self, recipients: Iterable) -> tuple[list, list[int]]:
        """(those to mail, the ids of those held out), from recipients whose first
        item is the customer id, in their order."""
        mailed, held_out = [], []
        for recipient in recipients:
            if self.holds_out(recipient[0]):
                held_out.append(recipient[0])
            else:
                mailed.append(recipient)
        return mailed, held_out

    @property
    def record_sql(self) -> str:
        """The batch statement's INSERT recording both sides (outbox.offers): the
        customers of its `sends` as mailed and of its `held_out` as held out."""
        meta = Assignment._meta
        quote = connection.ops.quote_name
        columns = ", ".join(
            quote(meta.get_field(name).column)
            for name in ("customer", "send", "campaign", "season", "as_of", "held_out", "created_at")
        )
        same = ", ".join(  # typed: win-back's campaign is a NULL that must still be a uuid
            f"%(holdout_{name})s::{meta.get_field(name).db_type(connection)}"
            for name in ("send", "campaign", "season", "as_of")
        )
        return (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "
            f"SELECT customer_id, {same}, false, %(now)s FROM sends "
            f"UNION ALL SELECT customer_id, {same}, true, %(now)s FROM held_out"
        )

    @property
    def record_params(self) -> dict:
        return {
            "holdout_send": self.send,
            "holdout_campaign": self.campaign_id,
            "holdout_season": self.season,
            "holdout_as_of": self.as_of,
        }


def holdout_for(*, send: str, season: str, as_of: dt.date, campaign_id=None) -> Holdout | None:
    """The run's holdout, or None: HOLDOUT_PERCENT is 0, or staff ended it on or
    before `as_of` (then nothing is recorded and everyone eligible is mailed)."""
    percent = holdout_percent(send)
    if percent <= 0:
        return None
    ended_on = holdout_ended_on(send=send, campaign_id=campaign_id)
    if ended_on is not None and ended_on <= as_of:
        return None
    return Holdout(send=send, campaign_id=campaign_id, season=season, as_of=as_of, percent=percent)


def winback_season(as_of: dt.date) -> str:
    """Win-back's "season" for the hash and the metrics: the month of the run."""
    return f"{as_of:%Y-%m}"


def held_out_of_season(*, campaign_id, season: str) -> QuerySet:
    """Customers (as Assignment rows) held out of this campaign season: they stay held
    out, so the job skips them rather than counting them eligible every week."""
    return Assignment.objects.filter(
        send=Send.SEASONAL, campaign_id=campaign_id, season=season, held_out=True
    )


def held_out_of_winback_since(holdout: Holdout | None, as_of: dt.date, days: int) -> Exists | None:
    """For a Customer queryset: held out of win-back within `days` before (or after,
    for a catch-up run) `as_of`, as a win-back sent then keeps a customer in cooldown.
    None when this run keeps no holdout (then earlier holdouts no longer hold back)."""
    if holdout is None:
        return None
    return Exists(
        Assignment.objects.filter(
            customer_id=OuterRef("pk"),
            send=Send.WINBACK,
            held_out=True,
            as_of__gt=as_of - dt.timedelta(days=days),
        )
    )


def end_holdout(*, send: str, by: AbstractBaseUser, campaign=None, reason: str = "") -> HoldoutEnd:
    """Ends a campaign's (or win-back's) holdout, recording who and when; ending it
    twice keeps the first record."""
    ended, _ = HoldoutEnd.objects.get_or_create(
        send=send,
        campaign=campaign,
        defaults={"ended_by": by, "ended_at": timezone.now(), "reason": reason},
    )
    return ended
