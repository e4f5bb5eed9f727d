"""The rewards page, its plain-form redemption, the htmx dialog response and the
dashboard's LoyaltyWidget."""

import re
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loyalty.models import LoyaltyAccount, PointsEntry, Redemption
from loyalty.services import adjust_points, redeem_reward
from tests.factories import RewardFactory, UserFactory

PAGE = "/customer-portal/rewards/"
REDEEM = "/customer-portal/rewards/redeem/"


@pytest.fixture
def grant(db):
    staff = UserFactory(is_staff=True)

    def grant(customer, points):
        return adjust_points(customer=customer, points=points, reason="Welcome gift", staff=staff)

    return grant


@pytest.fixture
def rewards(db):
    return {
        "cheap": RewardFactory(name="Ten off", points_cost=100),
        "mid": RewardFactory(name="Fifteen percent", points_cost=250),
        "dear": RewardFactory(name="Free HVAC", points_cost=1500),
    }


def text(response):
    return response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_page_shows_balance_tier_progress_grid_and_history(customer_client, customer, grant, rewards):
    grant(customer, 300)
    redeem_reward(customer=customer, reward_id=rewards["cheap"].pk)
    page = text(customer_client.get(PAGE))
    assert re.search(r'data-testid="points-balance"[^>]*>200<', page)
    assert "🥉 Bronze" in page
    assert "1000 more lifetime points to 🥈 Silver" in page
    assert "Ways to earn" in page and "1.15x" in page
    # Cheapest first; the unaffordable one is disabled with a reason.
    assert page.index("Ten off") < page.index("Fifteen percent") < page.index("Free HVAC")
    assert "You need 1300 more points." in page
    assert re.search(r"<button[^>]*disabled[^>]*>Redeem<span class=\"visually-hidden\"> Free HVAC", page)
    # History: earned/granted in green with +, redeemed in red with a minus.
    assert '<span class="points-plus" data-testid="history-points">+300</span>' in page
    assert '<span class="points-minus" data-testid="history-points">&minus;100</span>' in page
    assert page.index("Redeemed Ten off") < page.index("Welcome gift")
    # The nav links here.
    assert 'href="/customer-portal/rewards/" aria-current="page"' in page


def test_the_page_for_a_customer_without_points(customer_client, rewards):
    page = text(customer_client.get(PAGE))
    assert re.search(r'data-testid="points-balance"[^>]*>0<', page)
    assert "No points yet" in page
    assert page.count("disabled") >= 3


def test_no_javascript_redemption_confirm_then_post(customer_client, customer, grant, rewards):
    grant(customer, 300)
    reward = rewards["mid"]
    confirm = text(customer_client.get(REDEEM, {"reward": str(reward.pk)}))
    assert "Redeem Fifteen percent?" in confirm
    assert "50 points" in confirm  # balance after
    response = customer_client.post(REDEEM, {"reward": str(reward.pk)})
    redemption = Redemption.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}?redeemed={redemption.pk}"
    page = text(customer_client.get(response["Location"]))
    assert redemption.voucher.code in page
    assert re.search(r'data-testid="new-balance">50<', page)
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 50


def test_no_javascript_redemption_without_enough_points_says_why(customer_client, customer, grant, rewards):
    grant(customer, 10)
    response = customer_client.post(REDEEM, {"reward": str(rewards["cheap"].pk)}, follow=True)
    assert "you don&#x27;t have enough yet" in text(response)
    assert not Redemption.objects.exists()
    assert LoyaltyAccount.objects.get(pk=customer.pk).points == 10


@pytest.mark.parametrize("reward", ["", "nope", str(uuid.uuid4())])
def test_unknown_rewards(customer_client, customer, grant, reward):
    grant(customer, 1000)
    assert customer_client.get(REDEEM, {"reward": reward}).status_code == 404
    response = customer_client.post(REDEEM, {"reward": reward}, follow=True)
    assert "That reward isn&#x27;t available any more." in text(response)
    assert PointsEntry.objects.count() == 1


def test_htmx_redemption_returns_the_result_and_updates_the_page(customer_client, customer, grant, rewards):
    grant(customer, 300)
    response = customer_client.post(REDEEM, {"reward": str(rewards["cheap"].pk)}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = text(response)
    code = Redemption.objects.get().voucher.code
    assert code in body and "data-redeemed" in body
    assert re.search(r'data-testid="new-balance">200<', body)
    for part in ["points-card", "rewards-grid", "points-history"]:
        assert re.search(rf'id="{part}"[^>]*hx-swap-oob="true"', body), part


def test_htmx_redemption_error_is_shown_in_the_dialog(customer_client, customer, rewards):
    response = customer_client.post(REDEEM, {"reward": str(rewards["cheap"].pk)}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-testid="redeem-error"' in text(response)
    assert not Redemption.objects.exists()


def test_another_customers_redemption_is_not_shown(customer_client, other_customer, grant, rewards):
    grant(other_customer, 100)
    theirs = redeem_reward(customer=other_customer, reward_id=rewards["cheap"].pk).redemption
    page = text(customer_client.get(PAGE, {"redeemed": str(theirs.pk)}))
    assert theirs.voucher.code not in page
    assert "Welcome gift" not in page


def test_a_provider_cannot_open_the_rewards_page(client, provider):
    client.force_login(provider.user)
    assert client.get(PAGE).status_code == 403


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize("url", [PAGE, "/customer-portal/"])
def test_query_counts_are_the_same_for_1_and_200_ledger_entries(
    customer_client, customer, grant, rewards, url, django_assert_num_queries
):
    grant(customer, 1)
    one = _count_queries(customer_client, url)
    for _ in range(199):
        grant(customer, 1)
    with django_assert_num_queries(one):
        customer_client.get(url)


def test_the_dashboard_widget_shows_balance_tier_progress_and_links_to_rewards(customer_client, customer, grant):
    grant(customer, 420)
    page = text(customer_client.get("/customer-portal/"))
    assert 'data-testid="loyalty-widget"' in page
    assert re.search(r'data-testid="loyalty-widget-points"[^>]*>420<', page)
    assert "🥉 Bronze" in page and "1000 points to 🥈 Silver" in page
    assert 'href="/customer-portal/rewards/">See rewards' in page


def test_the_page_shows_the_newest_history_and_links_to_the_rest(customer_client, customer, grant):
    for i in range(1, 10):
        grant(customer, i)  # +1 ... +9, the newest last
    page = text(customer_client.get(PAGE))
    shown = re.findall(r'data-testid="history-points">\+(\d+)<', page)
    assert shown == ["9", "8", "7", "6", "5", "4", "3"]  # the seven newest
    assert 'data-testid="history-more"' in page and 'href="/customer-portal/rewards/history/"' in page


def test_no_more_link_when_the_whole_history_is_shown(customer_client, customer, grant):
    for i in range(1, 8):
        grant(customer, i)
    page = text(customer_client.get(PAGE))
    assert len(re.findall(r'data-testid="history-points"', page)) == 7
    assert 'data-testid="history-more"' not in page


def test_the_history_page_lists_every_line_a_page_at_a_time(customer_client, customer, other_customer, grant):
    for i in range(1, 31):
        grant(customer, i)
    grant(other_customer, 999)  # not theirs: never shown
    first = text(customer_client.get("/customer-portal/rewards/history/"))
    second = text(customer_client.get("/customer-portal/rewards/history/?page=2"))
    first_points = re.findall(r'data-testid="history-points">\+(\d+)<', first)
    second_points = re.findall(r'data-testid="history-points">\+(\d+)<', second)
    assert first_points == [str(i) for i in range(30, 5, -1)]
    assert second_points == ["5", "4", "3", "2", "1"]
    assert "+999<" not in first + second  # (a bare "999" can be in a timestamp)
    assert "Page 1 of 2" in first
