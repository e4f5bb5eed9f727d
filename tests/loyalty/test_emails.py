"""Loyalty emails leave through the outbox and reach Resend after the change commits."""

import json

from loyalty.models import Redemption, TierUpgrade
from tests.factories import RewardFactory


def test_the_redemption_email_reaches_resend_after_commit(
    customer_client, customer, grant, fake_resend, django_capture_on_commit_callbacks
):
    grant(customer, 150)
    reward = RewardFactory(name="$10 off", points_cost=150)
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(
            "/api/customer/loyalty/redeem", json.dumps({"rewardId": str(reward.pk)}), content_type="application/json"
        )
    assert response.status_code == 200
    code = Redemption.objects.get().voucher.code
    [sent] = fake_resend.emails
    assert sent["to"] == [customer.email]
    assert code in sent["subject"] and code in sent["text"] and code in sent["html"]


def test_the_tier_upgrade_email_reaches_resend_once(customer, complete, fake_resend, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        completion = complete(customer, "1000.00")
    with django_capture_on_commit_callbacks(execute=True):
        complete(customer, "50.00")
    upgrade = TierUpgrade.objects.get()
    assert upgrade.job_id == completion.job.pk
    [sent] = fake_resend.emails
    assert sent["to"] == [customer.email]
    assert "Silver" in sent["subject"]


def test_the_redemption_email_links_to_booking_with_the_voucher_and_its_service(
    customer, grant, lawn, settings
):
    from loyalty.models import Reward
    from loyalty.services import redeem_reward
    from outbox.models import OutboundEmail

    settings.SITE_URL = "https://homeservices.example"
    grant(customer, 150)
    reward = RewardFactory(
        name="Free mowing", points_cost=150, reward_type=Reward.RewardType.FREE_SERVICE, service_type=lawn
    )
    redeem_reward(customer=customer, reward_id=reward.pk)
    code = Redemption.objects.get().voucher.code
    email = OutboundEmail.objects.get(template="loyalty_redemption")
    link = f"https://homeservices.example/customer-portal/book/?service=lawn-care&code={code}"
    assert link in email.text_body
    assert link.replace("&", "&amp;") in email.html_body


def test_a_dollars_off_voucher_link_does_not_preselect_a_service(customer, grant, lawn, settings):
    from loyalty.services import redeem_reward
    from outbox.models import OutboundEmail

    settings.SITE_URL = "https://homeservices.example"
    grant(customer, 150)
    reward = RewardFactory(name="$10 off", points_cost=150, service_type=lawn)  # not limited to it
    redeem_reward(customer=customer, reward_id=reward.pk)
    code = Redemption.objects.get().voucher.code
    email = OutboundEmail.objects.get(template="loyalty_redemption")
    assert f"https://homeservices.example/customer-portal/book/?code={code}" in email.text_body
