"""Notifications for the portal's bell."""

from django.db.models import QuerySet
from django.utils import timezone

from .models import Customer, Notification


def notify(*, customer: Customer, kind: str, title: str, message: str, action_url: str = "") -> Notification:
    return Notification.objects.create(
        customer=customer, kind=kind, title=title, message=message, action_url=action_url
    )


def unread_count(*, customer: Customer) -> int:
    return customer.notifications.filter(read_at__isnull=True).count()


def mark_read(*, customer: Customer, ids: list | None = None) -> int:
    """Marks the customer's own notifications read (all when ids is None)."""
    notifications: QuerySet = customer.notifications.filter(read_at__isnull=True)
    if ids is not None:
        notifications = notifications.filter(pk__in=ids)
    return notifications.update(read_at=timezone.now())
