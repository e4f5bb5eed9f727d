from django.utils.functional import SimpleLazyObject

from retention.notifications import unread_count


def portal(request):
    """Who the signed-in user is to the portal, for the navigation: `role` is "customer",
    "provider" or None (the views' access checks, customer_required and
    provider_required, have found it already; otherwise it costs a query or two). For a
    customer, the bell's unread count: one query, run only when the page prints it and
    the view has not counted already (the dashboard counts with its notifications:
    `unread_notifications` in its own context wins)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    customer, provider = getattr(request, "customer", None), getattr(request, "provider", None)
    if customer is None and provider is None:
        customer = getattr(user, "customer", None)
    if customer is not None:
        return {
            "role": "customer",
            "unread_notifications": SimpleLazyObject(lambda: unread_count(customer=customer)),
        }
    if provider is not None:
        return {"role": "provider"}
    # Neither found yet (staff, or a page without an access check): asked only when the
    # page draws the navigation (admin pages do not).
    return {"role": SimpleLazyObject(lambda: "provider" if getattr(user, "provider", None) is not None else None)}
