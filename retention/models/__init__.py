"""The shared core every app stands on: people, service types, jobs, promo codes,
notifications, the email outbox and job runs."""

from .emails import OutboundEmail
from .jobruns import JobRun
from .jobs import Job, ServiceType
from .notifications import Notification
from .people import Customer, Provider, User
from .promo import PromoCode

__all__ = [
    "Customer",
    "Job",
    "JobRun",
    "Notification",
    "OutboundEmail",
    "PromoCode",
    "Provider",
    "ServiceType",
    "User",
]
