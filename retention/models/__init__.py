"""The shared core every app stands on: people, service types, jobs, promo codes,
notifications and job runs."""

from .jobruns import JobRun
from .jobs import Job, ServiceType, scheduled_ahead
from .notifications import Notification
from .people import Customer, Provider, User
from .promo import PromoCode

__all__ = [
    "Customer",
    "Job",
    "JobRun",
    "Notification",
    "PromoCode",
    "Provider",
    "ServiceType",
    "User",
    "scheduled_ahead",
]
