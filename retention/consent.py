"""Changing what email a customer agreed to. Every change goes through here: the
preferences page, the one-click unsubscribe link and admin."""

from .models import Customer


def update_email_preferences(
    *, customer: Customer, marketing: bool, service_reminders: bool
) -> None:
    Customer.objects.filter(pk=customer.pk).update(
        marketing_opt_in=marketing, service_reminders_opt_in=service_reminders
    )
    customer.marketing_opt_in, customer.service_reminders_opt_in = marketing, service_reminders


def unsubscribe_from_marketing(*, customer: Customer) -> None:
    """Stops seasonal offers and win-back email; reminders and receipts still go.
    Marketing email already queued is suppressed at delivery."""
    Customer.objects.filter(pk=customer.pk).update(marketing_opt_in=False)
    customer.marketing_opt_in = False
