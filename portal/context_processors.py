from django.utils.functional import SimpleLazyObject


def portal(request):
    """The bell's unread count on every customer page: one query, run only when the page
    prints it and the view has not counted already (the dashboard counts with its
    notifications: `unread_notifications` in its own context wins)."""
    user = getattr(request, "user", None)
    customer = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
    if customer is None:
        return {}
    return {
        "unread_notifications": SimpleLazyObject(
            lambda: customer.notifications.filter(read_at__isnull=True).count()
        )
    }
