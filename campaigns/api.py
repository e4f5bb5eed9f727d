"""The customer's seasonal campaign over JSON: GET /api/customer/seasonal-campaign."""

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, customer_auth

from .selectors import seasonal_offer

router = Router(tags=["customer"], auth=customer_auth)


class SeasonalCampaignBody(Schema):
    id: str
    season: str
    emoji: str
    title: str
    description: str
    discountPercent: int
    serviceTypes: list[str]
    promoCode: str | None
    promoExpiresAt: str | None


class SeasonalCampaignOut(Schema):
    campaign: SeasonalCampaignBody | None


@router.get("/seasonal-campaign", response={200: SeasonalCampaignOut, **ERROR_RESPONSES})
def seasonal_campaign(request: HttpRequest):
    """The campaign running this month (null when none), with the caller's own promo
    code for it while that code is unused and unexpired. `serviceTypes` names the
    services the discount covers; an empty list means every service."""
    offer = seasonal_offer(customer=request.customer)
    if offer is None:
        return {"campaign": None}
    campaign = offer.campaign
    promo = offer.promo_code if offer.promo_usable else None
    return {
        "campaign": {
            "id": str(campaign.id),
            "season": campaign.season,
            "emoji": campaign.emoji,
            "title": campaign.title,
            "description": campaign.description,
            "discountPercent": campaign.discount_percent,
            "serviceTypes": [service.name for service in offer.service_types],
            "promoCode": promo.code if promo else None,
            "promoExpiresAt": promo.expires_at.isoformat() if promo else None,
        }
    }
