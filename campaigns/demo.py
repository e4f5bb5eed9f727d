"""Demo campaigns: one per season, so one is always running, and a personal code
for the demo customer from the running one. Idempotent."""

import datetime as dt
from decimal import Decimal

from retention.models import Customer, PromoCode, ServiceType
from retention.promo import code_expiry, issue_promo_code

from .models import SEASONAL_SOURCE, Campaign, CampaignSend
from .selectors import active_campaign

CAMPAIGNS = [
    # season, title, description, discount %, start month, end month, service slugs
    ("spring", "Spring Refresh", "Wake your lawn up and keep the bugs out before they move in.",
     15, 3, 5, ["lawn-care", "pest-control"]),
    ("summer", "Summer Splash", "A sparkling pool all summer: book your pool service now.",
     20, 6, 8, ["pool-service"]),
    ("fall", "Fall Tune-Up", "Leaves down, heat on: get your yard and HVAC ready for the cold.",
     15, 9, 11, ["lawn-care", "hvac"]),
    ("winter", "Winter Comfort", "Stay warm: an HVAC check before the coldest weeks.",
     10, 12, 2, ["hvac"]),
]


def seed_campaigns(types: dict[str, ServiceType]) -> list[Campaign]:
    """A campaign per season; a season that already has one (perhaps edited by staff) is left alone."""
    campaigns = []
    for season, title, description, discount, start, end, slugs in CAMPAIGNS:
        campaign = Campaign.objects.filter(season=season).order_by("created_at").first()
        if campaign is None:
            campaign = Campaign.objects.create(
                season=season, title=title, description=description, discount_percent=discount,
                start_month=start, end_month=end, promo_valid_days=30,
            )
            campaign.service_types.set(types[slug] for slug in slugs)
        campaigns.append(campaign)
    return campaigns


def seed_demo_offer(customer: Customer, *, today: dt.date) -> CampaignSend | None:
    """The demo customer's personal code from the campaign running on `today`, as the
    weekly job would send it."""
    campaign = active_campaign(on=today)
    if campaign is None:
        return None
    season_year = campaign.season_year(today)
    send = CampaignSend.objects.filter(campaign=campaign, customer=customer, season_year=season_year).first()
    if send is None:
        valid_through = today + dt.timedelta(days=campaign.promo_valid_days)
        code = issue_promo_code(
            customer=customer,
            source=SEASONAL_SOURCE,
            discount_type=PromoCode.DiscountType.PERCENT,
            discount_value=Decimal(campaign.discount_percent),
            expires_at=code_expiry(valid_through),
            service_types=campaign.service_types.all(),
        )
        send = CampaignSend.objects.create(
            campaign=campaign, customer=customer, season_year=season_year, promo_code=code
        )
    return send
