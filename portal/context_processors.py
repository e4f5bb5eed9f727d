def portal(request):
    """The bell's unread count on every customer page (one query)."""
    user = getattr(request, "user", None)
    customer = getattr(user, "customer", None) if user is not None and user.is_authenticated else None
    if customer is None:
        return {}
    return {"unread_notifications": customer.notifications.filter(read_at__isnull=True).count()}
