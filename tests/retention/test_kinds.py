"""Features register their notification kinds and promo-code sources with the core
(retention.kinds); the model fields' choices are whatever is registered."""

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError

from retention.kinds import NOTIFICATION_KINDS, PROMO_SOURCES, KindRegistry
from retention.models import Notification, PromoCode


def test_every_feature_kind_is_a_choice_of_the_core_fields():
    kinds = dict(Notification._meta.get_field("kind").choices)
    assert {"job", "tier_upgrade", "redemption", "seasonal", "service_due", "winback"} <= set(kinds)
    assert kinds["seasonal"] == "Seasonal offer"
    sources = dict(PromoCode._meta.get_field("source").choices)
    assert {"staff", "voucher", "seasonal", "winback"} <= set(sources)


def test_a_newly_registered_kind_is_offered_without_a_migration():
    registry = KindRegistry("notification kind", max_length=20)
    assert registry.register("plan_visit", "Plan visit") == "plan_visit"
    assert registry.choices() == [("plan_visit", "Plan visit")]
    assert "plan_visit" in registry and registry.label("plan_visit") == "Plan visit"


def test_conflicting_or_too_long_registrations_are_refused():
    registry = KindRegistry("promo code source", max_length=10)
    registry.register("referral", "Referral")
    registry.register("referral", "Referral")  # the same twice is fine (module reloads)
    with pytest.raises(ImproperlyConfigured):
        registry.register("referral", "Something else")
    with pytest.raises(ImproperlyConfigured):
        registry.register("much-too-long-value", "Long")


@pytest.mark.django_db
def test_an_unregistered_kind_fails_validation(customer):
    note = Notification(customer=customer, kind="no_such_kind", title="t", message="m")
    with pytest.raises(ValidationError):
        note.full_clean()
    note.kind = "seasonal"
    note.full_clean()
    assert "seasonal" in NOTIFICATION_KINDS and "voucher" in PROMO_SOURCES
