"""Reads about campaigns: which one runs in a month, and what a customer is offered."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Value
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from retention.clock import business_today
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
    """The campaign running today and the customer's own code for it (three queries)."""
    on = on or business_today()
    campaign = campaign_for_month(on.month)
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
        service_types=list(campaign.service_types.order_by("name")),
        promo_code=send.promo_code if send else None,
    )


def active_promo_codes(*, customer: Customer) -> list[PromoCode]:
    """The customer's unused, unexpired codes and vouchers, soonest to expire first (two queries)."""
    return list(
        customer.promo_codes.filter(used_at__isnull=True, expires_at__gt=timezone.now())
        .prefetch_related("service_types")
        .order_by("expires_at", "code")
    )
