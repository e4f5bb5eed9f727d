"""The customer's notifications over JSON."""

import uuid

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, ApiError, customer_auth
from retention.notifications import mark_read, unread_count

router = Router(tags=["customer"], auth=customer_auth)


class NotificationOut(Schema):
    id: str
    type: str
    title: str
    message: str
    actionUrl: str
    createdAt: str
    readAt: str | None


class NotificationsOut(Schema):
    unreadCount: int
    notifications: list[NotificationOut]


class MarkReadIn(Schema):
    ids: list[str] | None = None


class MarkReadOut(Schema):
    success: bool
    marked: int
    unreadCount: int


@router.get("/notifications", response={200: NotificationsOut, **ERROR_RESPONSES})
def notifications(request: HttpRequest):
    """The customer's 50 newest notifications and how many are unread."""
    customer = request.customer
    items = customer.notifications.all()[:50]
    return {
        "unreadCount": unread_count(customer=customer),
        "notifications": [
            {
                "id": str(n.id),
                "type": n.kind,
                "title": n.title,
                "message": n.message,
                "actionUrl": n.action_url,
                "createdAt": n.created_at.isoformat(),
                "readAt": n.read_at.isoformat() if n.read_at else None,
            }
            for n in items
        ],
    }


@router.post("/notifications/read", response={200: MarkReadOut, **ERROR_RESPONSES})
def read_notifications(request: HttpRequest, payload: MarkReadIn | None = None):
    """Marks the given notifications read, or all of them when no ids are sent.
    Ids that are not the caller's are ignored."""
    ids = None
    if payload is not None and payload.ids is not None:
        ids = []
        for value in payload.ids:
            try:
                ids.append(uuid.UUID(value))
            except ValueError:
                raise ApiError(400, "invalid_request", f"{value!r} is not a notification id.") from None
    marked = mark_read(customer=request.customer, ids=ids)
    return {"success": True, "marked": marked, "unreadCount": unread_count(customer=request.customer)}
