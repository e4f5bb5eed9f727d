"""Promo codes: seasonal campaigns, win-back and loyalty vouchers all issue these."""

import secrets
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone

from retention.kinds import PROMO_SOURCES, promo_source_choices

# The core's own source; features register theirs (retention.kinds).
STAFF_ISSUED = PROMO_SOURCES.register("staff", "Issued by staff")

# No 0/O, 1/I/L: codes are read aloud and typed from email.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 12  # 31**12 ~ 2**59: well over the 50 bits of randomness asked for.


def generate_code() -> str:
    # One draw of a uniform number below 31**12, written in base 31: the same
    # distribution as twelve secrets.choice() calls, at a tenth of the cost (batch
    # jobs make tens of thousands).
    number = secrets.randbelow(len(CODE_ALPHABET) ** CODE_LENGTH)
    digits = []
    for _ in range(CODE_LENGTH):
        number, digit = divmod(number, len(CODE_ALPHABET))
        digits.append(CODE_ALPHABET[digit])
    raw = "".join(digits)
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_code(text: str) -> str:
    """What a customer typed, as stored: upper case, grouped by dashes."""
    raw = "".join(ch for ch in text.upper() if ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


class PromoCode(models.Model):
    class DiscountType(models.TextChoices):
        PERCENT = "percent", "Percent off"
        AMOUNT = "amount", "Amount off"

    code = models.CharField(max_length=20, unique=True, default=generate_code, editable=False)
    customer = models.ForeignKey("retention.Customer", on_delete=models.CASCADE, related_name="promo_codes")
    source = models.CharField(max_length=PROMO_SOURCES.max_length, choices=promo_source_choices)
    discount_type = models.CharField(max_length=10, choices=DiscountType.choices)
    discount_value = models.DecimalField(max_digits=10, decimal_places=2)
    service_types = models.ManyToManyField(
        "retention.ServiceType", blank=True, help_text="None means every service type."
    )
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["customer", "expires_at"], name="promo_customer_expiry")]
        constraints = [
            models.CheckConstraint(condition=Q(discount_value__gt=0), name="promo_discount_positive"),
            models.CheckConstraint(
                condition=~Q(discount_type="percent") | Q(discount_value__lte=100),
                name="promo_percent_at_most_100",
            ),
        ]

    def __str__(self):
        return self.code

    def is_active(self, at=None) -> bool:
        at = at or timezone.now()
        return self.used_at is None and self.expires_at > at

    def discounted(self, price: Decimal) -> Decimal:
        """The price after this code, never below zero, rounded to cents."""
        if self.discount_type == self.DiscountType.PERCENT:
            off = (price * self.discount_value / Decimal(100)).quantize(Decimal("0.01"))
        else:
            off = self.discount_value
        return max(price - off, Decimal("0.00"))

    @property
    def label(self) -> str:
        if self.discount_type == self.DiscountType.PERCENT:
            return f"{self.discount_value.normalize():f}% off"
        return f"${self.discount_value} off"
