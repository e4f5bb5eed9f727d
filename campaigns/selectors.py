"""Reads about campaigns: which one runs in a month, and what a customer is offered."""

import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import F, Q, QuerySet, Value
from django.db.models.lookups import LessThanOrEqual

from retention.clock import business_today
from retention.compiled import CompiledQuery, columns
from retention.links import booking_url
from retention.models import Customer, PromoCode, ServiceType

from .models import Campaign, CampaignSend, month_in_range


def covering_month(month: int) -> LessThanOrEqual:
    """Campaigns whose months include `month`, in SQL, by Campaign.covers' rule
    (campaigns.models.month_in_range): winter December (12) to February (2) covers 12,
    1 and 2, which the seed's `start_month <= month <= end_month` misses."""
    return month_in_range(Value(month), F("start_month"), F("end_month"), at_most=LessThanOrEqual)


def campaign_for_month(month: int) -> Campaign | None:
    """The active campaign covering `month` (the database allows at most one)."""
    return Campaign.objects.filter(covering_month(month), active=True).first()


def active_campaign(*, on: dt.date | None = None) -> Campaign | None:
    return campaign_for_month((on or business_today()).month)


CAMPAIGN_COLUMNS = columns(Campaign)


def running_campaign_query(*, id: int, day: dt.date) -> QuerySet:
    """The active campaign covering `day`'s month (the database allows at most one): its
    columns, then the ids, names and slugs of the service types it covers, by name.
    `id` is not used."""
    by_name, some = "service_types__name", Q(service_types__isnull=False)  # none: [], not [NULL]
    return (
        Campaign.objects.filter(covering_month(day.month), active=True)
        .annotate(
            type_ids=ArrayAgg("service_types__id", order_by=by_name, filter=some, default=[]),
            type_names=ArrayAgg(by_name, order_by=by_name, filter=some, default=[]),
            type_slugs=ArrayAgg("service_types__slug", order_by=by_name, filter=some, default=[]),
        )
        .order_by()
        .values_list(*CAMPAIGN_COLUMNS, "type_ids", "type_names", "type_slugs")
    )


# Every dashboard and GET /api/customer/seasonal-campaign read the running campaign:
# compiled once per process (retention.compiled) and read fresh on every request, so a
# change made anywhere (admin in another worker, a shell, SQL) shows at once.
RUNNING_CAMPAIGN = CompiledQuery(running_campaign_query)


def running_campaign(*, on: dt.date) -> tuple[Campaign | None, list[ServiceType]]:
    """(the campaign running on `on`, the service types it covers by name, with their
    id, name and slug); one query."""
    rows = RUNNING_CAMPAIGN.rows(day=on)
    if not rows:
        return None, []
    *values, ids, names, slugs = rows[0]
    campaign = Campaign.from_db(connection.alias, CAMPAIGN_COLUMNS, values)
    return campaign, [ServiceType(pk=pk, name=name, slug=slug) for pk, name, slug in zip(ids, names, slugs)]


@dataclass(frozen=True)
class SeasonalOffer:
    """What the SeasonalBanner and the seasonal-campaign API show a customer."""

    campaign: Campaign
    season_year: int
    service_types: list[ServiceType]
    promo_code: PromoCode | None  # the customer's code for this campaign this season, if any

    @property
    def promo_usable(self) -> bool:
        return self.promo_code is not None and self.promo_code.is_active()

    @property
    def promo_used(self) -> bool:
        return self.promo_code is not None and self.promo_code.used_at is not None

    @property
    def booking_path(self) -> str:
        """The "Schedule Services" link: the campaign's first service chosen when it is
        limited to some, and the customer's code filled in while usable."""
        return booking_url(
            service=self.service_types[0] if self.service_types else None,
            code=self.promo_code.code if self.promo_usable else None,
        )


def seasonal_offer(*, customer: Customer, on: dt.date | None = None) -> SeasonalOffer | None:
    """The campaign running today and the customer's own code for it: two queries."""
    on = on or business_today()
    campaign, service_types = running_campaign(on=on)
    if campaign is None:
        return None
    season_year = campaign.season_year(on)
    send = (
        CampaignSend.objects.filter(campaign=campaign, customer=customer, season_year=season_year)
        .select_related("promo_code")
        .first()
    )
    return SeasonalOffer(
        campaign=campaign,
        season_year=season_year,
        service_types=service_types,
        promo_code=send.promo_code if send else None,
    )


@dataclass(frozen=True)
class CoveredService:
    name: str
    slug: str


PROMO_COLUMNS = columns(PromoCode)


def active_codes_query(*, id: int, day: dt.date, now: dt.datetime) -> QuerySet:
    """Customer `id`'s unused codes unexpired at `now`, soonest to expire first, with the
    names and slugs of the service types each is limited to, as arrays (PROMO_COLUMNS,
    then the two arrays). `day` is not used."""
    return (
        PromoCode.objects.filter(customer_id=id, used_at__isnull=True, expires_at__gt=now)
        .annotate(
            covered_names=ArrayAgg("service_types__name", order_by="service_types__name", default=[]),
            covered_slugs=ArrayAgg("service_types__slug", order_by="service_types__name", default=[]),
        )
        .order_by("expires_at", "code")
        .values_list(*PROMO_COLUMNS, "covered_names", "covered_slugs")
    )


# Compiled once per process (retention.compiled): every dashboard and booking page.
ACTIVE_CODES = CompiledQuery(active_codes_query, uses_now=True)


def active_promo_codes(*, customer: Customer) -> list[PromoCode]:
    """The customer's unused, unexpired codes and vouchers, soonest to expire first, each
    with `covered`: the service types it is limited to (CoveredService, by name; empty
    for any service). One query: the service types are aggregated into arrays."""
    codes = []
    for *values, names, slugs in ACTIVE_CODES.rows(id=customer.pk):
        code = PromoCode.from_db(connection.alias, PROMO_COLUMNS, values)
        code.covered = [CoveredService(name, slug) for name, slug in zip(names, slugs) if name is not None]
        codes.append(code)
    return codes
