"""The JSON API: one NinjaAPI assembled from each app's routers, with the shared
error format. The OpenAPI document is generated from this code."""

import uuid
from typing import Literal

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from ninja import Field, NinjaAPI, Router, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from actions.jobs import AMOUNT_PATTERN, AmountError, JobStateError, complete_job
from retention.api import (
    API_ERROR_CODES,
    ERROR_RESPONSES,
    WRITE_ERROR_RESPONSES,
    ApiError,
    BodyError,
    JsonObjectParser,
    error_body,
    not_found,
    provider_auth,
)
from retention.models import Job

api = NinjaAPI(
    title="Retention API",
    version="1.0.0",
    description="Customer and provider endpoints of the Retention portal, and cron triggers.",
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    parser=JsonObjectParser(),
)


def error_response(request, status: int, code: str, message: str):
    return api.create_response(request, error_body(code, message), status=status)


@api.exception_handler(ApiError)
def on_api_error(request, exc: ApiError):
    return error_response(request, exc.status, exc.code, exc.message)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    details = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', [])[1:]) or 'body'}: {err.get('msg')}" for err in exc.errors
    )
    return error_response(request, 400, "invalid_request", details or "The request is not valid.")


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return error_response(request, 401, "not_authenticated", "Log in to use this endpoint.")


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # A body that is not a JSON object reaches here wrapped by django-ninja.
    message = str(exc.__cause__) if isinstance(exc.__cause__, BodyError) else str(exc)
    return error_response(request, exc.status_code, API_ERROR_CODES.get(exc.status_code, "error"), message)


@api.exception_handler(RequestDataTooBig)
def on_body_too_large(request, exc):
    return error_response(request, 413, "request_too_large", "The request body is too large.")


# --- Provider endpoints -----------------------------------------------------------

provider_router = Router(tags=["provider"], auth=provider_auth)


class CustomerName(Schema):
    name: str


class ProviderJobOut(Schema):
    id: str
    customer: CustomerName
    serviceType: str
    scheduledFor: str
    status: str
    price: str


class ProviderJobsOut(Schema):
    jobs: list[ProviderJobOut]


class CompleteJobIn(Schema):
    status: Literal["completed"]
    amount: str | None = Field(
        None,
        pattern=AMOUNT_PATTERN,
        description="Dollars and cents paid; at most MAX_AMOUNT_FACTOR (2) x the job's list price, "
        "else 400 `amount_out_of_range`. Omitted: the amount booked.",
        examples=["149.00"],
    )


class CompletedJobOut(Schema):
    id: str
    status: str
    completedAt: str | None
    nextDueDate: str | None
    amount: str


class CompleteJobOut(Schema):
    job: CompletedJobOut
    pointsAwarded: int


@provider_router.get("/jobs", response={200: ProviderJobsOut, **ERROR_RESPONSES})
def provider_jobs(request: HttpRequest, status: Job.Status | None = None):
    """The provider's own jobs, soonest first; `status` filters by scheduled, completed or cancelled."""
    jobs = Job.objects.filter(provider=request.auth).select_related("customer__user", "service_type")
    if status:
        jobs = jobs.filter(status=status)
    return {
        "jobs": [
            {
                "id": str(job.id),
                "customer": {"name": job.customer.name},
                "serviceType": job.service_type.name,
                "scheduledFor": job.scheduled_for.isoformat(),
                "status": job.status,
                "price": str(job.price),
            }
            for job in jobs.order_by("scheduled_for", "created_at")
        ]
    }


@provider_router.patch("/jobs/{job_id}", response={200: CompleteJobOut, **WRITE_ERROR_RESPONSES})
def update_provider_job(request: HttpRequest, job_id: str, payload: CompleteJobIn):
    """Marks the provider's own job completed. Repeating it changes nothing and answers the
    same. 400 `amount_out_of_range` for more than MAX_AMOUNT_FACTOR x the list price."""
    job = Job.objects.filter(provider=request.auth, pk=_uuid_or_404(job_id)).select_related("service_type").first()
    if job is None:
        raise not_found("No such job.")
    try:
        completion = complete_job(job=job, amount=payload.amount, completed_by=request.user)
    except JobStateError as exc:
        raise ApiError(400, "invalid_state", str(exc)) from None
    except AmountError as exc:
        raise ApiError(400, exc.code, str(exc)) from None
    job = completion.job
    return {
        "job": {
            "id": str(job.id),
            "status": job.status,
            "completedAt": job.completed_at.isoformat() if job.completed_at else None,
            "nextDueDate": job.next_due_date.isoformat() if job.next_due_date else None,
            "amount": str(job.amount_paid),
        },
        "pointsAwarded": completion.points_awarded,
    }


def _uuid_or_404(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise not_found("No such job.") from None


api.add_router("/provider", provider_router)

# --- Customer endpoints: each app's router, under /api/customer ---------------------
from bundles.api import router as bundles_router  # noqa: E402
from campaigns.api import router as campaigns_router  # noqa: E402
from loyalty.api import router as loyalty_router  # noqa: E402
from plans.api import router as plans_router  # noqa: E402
from portal.api_notifications import router as notifications_router  # noqa: E402
from referrals.api import router as referrals_router  # noqa: E402
from recommendations.api import router as recommendations_router  # noqa: E402
from reminders.api import router as reminders_router  # noqa: E402

for customer_router in (notifications_router, loyalty_router, campaigns_router, reminders_router):
    api.add_router("/customer", customer_router)
api.add_router("/customer", referrals_router)
api.add_router("/customer", plans_router)
api.add_router("/customer", bundles_router)
api.add_router("/customer", recommendations_router)

# --- Cron triggers, for hosted schedulers: /api/cron/... --------------------------------
from retention.cron_api import router as cron_router  # noqa: E402

api.add_router("/cron", cron_router)
