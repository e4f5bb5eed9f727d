"""The customer's notifications over JSON."""

import uuid

from django.http import HttpRequest
from ninja import Field, Router, Schema
from pydantic import ConfigDict, StrictBool, model_validator

from retention.api import ERROR_RESPONSES, WRITE_ERROR_RESPONSES, customer_auth
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
    """Exactly one of `ids` or `"all": true`: marking everything read is asked for
    explicitly, never implied by a missing or odd body."""

    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["ids"]}, {"required": ["all"]}]}
    )

    ids: list[uuid.UUID] | None = Field(
        None, max_length=500, description="The notifications to mark read; others' ids are ignored."
    )
    all: StrictBool | None = Field(None, description="`true` (only) marks every notification read.")

    @model_validator(mode="after")
    def exactly_one(self):
        if (self.ids is None) == (self.all is None) or self.all is False:
            raise ValueError('send either {"ids": [...]} or {"all": true}')
        return self


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


@router.post("/notifications/read", response={200: MarkReadOut, **WRITE_ERROR_RESPONSES})
def read_notifications(request: HttpRequest, payload: MarkReadIn):
    """Marks the notifications `{"ids": [...]}` names read, or every one for
    `{"all": true}`. Ids that are not the caller's are ignored; any other body is 400."""
    marked = mark_read(customer=request.customer, ids=None if payload.all else payload.ids)
    return {"success": True, "marked": marked, "unreadCount": unread_count(customer=request.customer)}
