"""The rewards page: balance, tier, ways to earn, the rewards grid, the newest points
history (the whole of it a page at a time on its own page) and redemption.

Redeeming is a plain form post (GET confirm page, POST redeem, redirect back with
the voucher shown), so it works without JavaScript. With JavaScript the same
POST is sent by htmx from the confirmation <dialog>, and the response is the
dialog's result plus out-of-band updates of the balance, grid and history.
"""

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import DEFAULT_DB_ALIAS
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from loyalty.models import PointsEntry, Redemption, Reward
from loyalty.selectors import active_rewards, loyalty_summary, recent_entries, unused_vouchers
from loyalty.services import LoyaltyError, RewardNotFound, redeem_reward
from loyalty.tiers import TIERS
from retention.compiled import CompiledPages, CompiledQuery, columns

from .access import customer_required


def _reward_cards(rewards, points: int) -> list[dict]:
    return [
        {"reward": reward, "affordable": points >= reward.points_cost, "short_by": max(reward.points_cost - points, 0)}
        for reward in rewards
    ]


# The rewards page shows the newest ledger lines and links to the whole history, so
# the page costs the same for 7 lines as for 7,000.
PAGE_HISTORY = 7
HISTORY_PAGE_SIZE = 25


def _page_parts(customer) -> dict:
    """What the balance card, the vouchers, the rewards grid and the history show (five queries)."""
    summary = loyalty_summary(customer=customer)
    # One more than shown: whether there is more to see, without counting.
    history = recent_entries(customer=customer, limit=PAGE_HISTORY + 1)
    return {
        "loyalty": summary,
        "vouchers": unused_vouchers(customer=customer),
        "cards": _reward_cards(active_rewards(), summary.points),
        "history": history[:PAGE_HISTORY],
        "history_more": len(history) > PAGE_HISTORY,
    }


def _own_redemption(customer, redemption_id) -> Redemption | None:
    try:
        redemption_id = uuid.UUID(str(redemption_id))
    except ValueError:
        return None
    return (
        Redemption.objects.filter(pk=redemption_id, account_id=customer.pk)
        .select_related("reward", "voucher")
        .first()
    )


@customer_required
def rewards(request):
    context = _page_parts(request.customer)
    context["tiers"] = TIERS
    if redeemed := request.GET.get("redeemed"):
        context["redeemed"] = _own_redemption(request.customer, redeemed)
    return render(request, "portal/rewards.html", context)


ENTRY_COLUMNS = columns(PointsEntry)
# Compiled once per process and read a page at a time, as the jobs page's list.
HISTORY = CompiledQuery(
    lambda *, id, day: PointsEntry.objects.filter(account_id=id)
    .order_by("-created_at", "-id")
    .values_list(*ENTRY_COLUMNS)
)


@customer_required
def points_history(request):
    """The whole points history, newest first, a page at a time."""
    entries = CompiledPages(
        HISTORY, id=request.customer.pk, make=lambda row: PointsEntry.from_db(DEFAULT_DB_ALIAS, ENTRY_COLUMNS, row)
    )
    page = Paginator(entries, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/points_history.html", {"page": page})


def _reward_or_404(reward_id) -> Reward:
    try:
        reward = Reward.objects.filter(pk=uuid.UUID(str(reward_id)), active=True).first()
    except ValueError:
        reward = None
    if reward is None:
        raise Http404("That reward isn't available.")
    return reward


@customer_required
def redeem(request):
    """GET ?reward=<id>: the confirmation (cost, balance after). POST reward=<id>: redeem."""
    customer = request.customer
    if request.method != "POST":
        reward = _reward_or_404(request.GET.get("reward", ""))
        summary = loyalty_summary(customer=customer)
        return render(
            request,
            "portal/rewards_confirm.html",
            {"reward": reward, "loyalty": summary, "remaining": summary.points - reward.points_cost},
        )
    try:
        reward_id = uuid.UUID(request.POST.get("reward", ""))
        result = redeem_reward(customer=customer, reward_id=reward_id)
    except (ValueError, RewardNotFound):
        error = "That reward isn't available any more."
    except LoyaltyError as exc:
        error = str(exc)
    else:
        if request.htmx:
            return render(
                request,
                "portal/rewards/redeem_result.html",
                {**_page_parts(customer), "redeemed": result.redemption, "tiers": TIERS},
            )
        return redirect(f"{reverse('portal:rewards')}?redeemed={result.redemption.pk}")
    if request.htmx:
        # 200 so htmx swaps the message into the dialog.
        return render(request, "portal/rewards/redeem_result.html", {"error": error})
    messages.error(request, error)
    return redirect("portal:rewards")
