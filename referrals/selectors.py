"""Reads of the referral program: the dashboard widget, the API's list, the rewards
page's terms and the staff funnel, each a fixed number of queries."""

import datetime as dt
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from retention.compiled import CompiledQuery
from retention.models import Customer

from .models import LinkOpens, Referral, ReferralCode, ReferralReward
from .services import CODE_ATTEMPTS, WELCOME_CODE_VALID_DAYS, ensure_referral_code, first_name, referral_url

Status = Referral.Status


@dataclass(frozen=True)
class Terms:
    """What each side gets, from settings."""

    friend_discount: int
    advocate_points: int
    max_per_year: int
    welcome_code_days: int

    @property
    def friend_offer(self) -> str:
        return f"${self.friend_discount} off your first service"


def terms() -> Terms:
    return Terms(
        friend_discount=settings.REFERRAL_FRIEND_DISCOUNT,
        advocate_points=settings.REFERRAL_ADVOCATE_POINTS,
        max_per_year=settings.REFERRAL_MAX_PER_YEAR,
        welcome_code_days=WELCOME_CODE_VALID_DAYS,
    )


@dataclass(frozen=True)
class ReferralWidget:
    code: str
    url: str
    terms: Terms
    invited: int  # times someone else opened the link
    joined: int  # friends who signed up (cancelled ones left out)
    rewarded: int  # friends whose first job earned the advocate points
    points_earned: int  # standing rewards' points

    @property
    def mailto(self) -> str:
        """An email the customer sends from their own mail app."""
        subject = f"Get ${self.terms.friend_discount} off your first HomeServices service"
        body = (
            f"I use HomeServices for my home services. Sign up with my link and get "
            f"${self.terms.friend_discount} off your first service: {self.url}"
        )
        return f"mailto:?subject={quote(subject)}&body={quote(body)}"


def _count(queryset, aggregate) -> Coalesce:
    """A per-advocate aggregate as a scalar subquery (0 when there are no rows)."""
    rows = queryset.filter(advocate=OuterRef("pk")).order_by().values("advocate").annotate(n=aggregate).values("n")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def widget_query(*, id: int, day: dt.date):
    """Customer `id`'s code with the widget's counts. `day` is not used."""
    return (
        ReferralCode.objects.filter(pk=id)
        .annotate(
            joined=_count(Referral.objects.exclude(status=Status.CANCELLED), Count("pk")),
            rewarded=_count(Referral.objects.filter(status=Status.REWARDED), Count("pk")),
            points=_count(ReferralReward.objects.filter(reversed_at__isnull=True), Sum("points")),
        )
        .values_list("code", "opens", "joined", "rewarded", "points")
    )


# Compiled once per process (retention.compiled): three subqueries on every dashboard.
WIDGET = CompiledQuery(widget_query)


def referral_widget(*, customer: Customer) -> ReferralWidget:
    """One query once the customer has a code; the first time, the code is created
    (one INSERT) and read again."""
    rows = WIDGET.rows(id=customer.pk)
    for _ in range(CODE_ATTEMPTS):
        if rows:
            break
        ensure_referral_code(customer=customer)
        rows = WIDGET.rows(id=customer.pk)
    else:
        raise RuntimeError("Could not draw a unique referral code.")
    code, opens, joined, rewarded, points = rows[0]
    return ReferralWidget(
        code=code,
        url=referral_url(code),
        terms=terms(),
        invited=opens,
        joined=joined,
        rewarded=rewarded,
        points_earned=points,
    )


@dataclass(frozen=True)
class ReferralRow:
    friend_name: str
    status: str  # joined, rewarded, blocked (cancelled ones show as blocked)
    joined_at: dt.datetime
    rewarded_at: dt.datetime | None
    points: int


def referrals_of(*, customer: Customer) -> list[ReferralRow]:
    """The advocate's own referrals, newest first (one query)."""
    standing = ReferralReward.objects.filter(referral=OuterRef("pk"), reversed_at__isnull=True)
    rows = (
        Referral.objects.filter(advocate=customer)
        .select_related("friend__user")
        .annotate(
            rewarded_at=Subquery(standing.values("created_at")[:1]),
            reward_points=Subquery(standing.values("points")[:1]),
        )
        .order_by("-joined_at", "pk")
    )
    return [
        ReferralRow(
            friend_name=first_name(r.friend.user),
            status=Status.BLOCKED if r.status == Status.CANCELLED else r.status,
            joined_at=r.joined_at,
            rewarded_at=r.rewarded_at,
            points=r.reward_points or 0,
        )
        for r in rows
    ]


@dataclass(frozen=True)
class Funnel:
    opened: int
    signups: int
    first_jobs: int
    rewards: int
    blocked: int


def referral_funnel(*, starts_at: dt.datetime, ends_at: dt.datetime, first_day: dt.date, last_day: dt.date) -> Funnel:
    """The staff funnel for a period, in one query: links opened, sign-ups through a
    link, friends' first completed jobs, rewards given (and not reversed) and referrals
    blocked. Built from the models' _meta, as five scalar subqueries."""
    qn = connection.ops.quote_name

    def table(model):
        return qn(model._meta.db_table)

    def column(model, field):
        return qn(model._meta.get_field(field).column)

    referral = table(Referral)

    def referrals_between(field):
        return f"(SELECT COUNT(*) FROM {referral} WHERE {column(Referral, field)} >= %s AND {column(Referral, field)} < %s)"

    sql = f"""
        SELECT
          (SELECT COALESCE(SUM({column(LinkOpens, 'opens')}), 0) FROM {table(LinkOpens)}
            WHERE {column(LinkOpens, 'day')} >= %s AND {column(LinkOpens, 'day')} <= %s),
          {referrals_between('joined_at')},
          {referrals_between('first_job_at')},
          (SELECT COUNT(*) FROM {table(ReferralReward)}
            WHERE {column(ReferralReward, 'created_at')} >= %s AND {column(ReferralReward, 'created_at')} < %s
              AND {column(ReferralReward, 'reversed_at')} IS NULL),
          {referrals_between('blocked_at')}
    """
    params = [first_day, last_day] + [starts_at, ends_at] * 4
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        opened, signups, first_jobs, rewards, blocked = cursor.fetchone()
    return Funnel(
        opened=int(opened), signups=signups, first_jobs=first_jobs, rewards=rewards, blocked=blocked
    )
