"""The customer's referrals over JSON: GET /api/customer/referrals."""

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, customer_auth

from .selectors import referral_widget, referrals_of

router = Router(tags=["referrals"], auth=customer_auth)


class ReferralOut(Schema):
    friendName: str
    status: str
    joinedAt: str
    rewardedAt: str | None
    points: int


class ReferralsOut(Schema):
    code: str
    url: str
    friendOffer: str
    advocatePoints: int
    referrals: list[ReferralOut]


@router.get("/referrals", response={200: ReferralsOut, **ERROR_RESPONSES})
def referrals(request: HttpRequest):
    """The customer's code and link, what a friend gets (`friendOffer`, e.g. "$20 off
    your first service") and what the customer earns per friend (`advocatePoints`), and their
    own referrals newest first: the friend's first name, `joined`, `rewarded` or
    `blocked`, when they joined and were rewarded, and the points earned."""
    widget = referral_widget(customer=request.customer)
    return {
        "code": widget.code,
        "url": widget.url,
        "friendOffer": widget.terms.friend_offer,
        "advocatePoints": widget.terms.advocate_points,
        "referrals": [
            {
                "friendName": row.friend_name,
                "status": row.status,
                "joinedAt": row.joined_at.isoformat(),
                "rewardedAt": row.rewarded_at.isoformat() if row.rewarded_at else None,
                "points": row.points,
            }
            for row in referrals_of(customer=request.customer)
        ],
    }
