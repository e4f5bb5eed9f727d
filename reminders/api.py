"""GET /api/customer/jobs/due: the customer's services due soon, most urgent first."""

from django.http import HttpRequest
from ninja import Router, Schema

from retention.api import ERROR_RESPONSES, customer_auth
from retention.clock import business_today

from .selectors import due_services

router = Router(tags=["customer"], auth=customer_auth)


class ProviderContact(Schema):
    name: str
    phone: str


class DueJobOut(Schema):
    id: str
    serviceType: str
    dueDate: str
    daysUntilDue: int
    urgency: str
    provider: ProviderContact


class DueJobsOut(Schema):
    jobs: list[DueJobOut]


@router.get("/jobs/due", response={200: DueJobsOut, **ERROR_RESPONSES})
def jobs_due(request: HttpRequest):
    """The customer's completed jobs whose service is due again from 30 days ago to 7 days
    ahead (business time zone) and not booked again, one per service type, most urgent
    (earliest due) first. `urgency` is `overdue`, `today`, `soon` (1-3 days) or `upcoming` (4-7)."""
    due = due_services(customer=request.customer, today=business_today())
    return {
        "jobs": [
            {
                "id": str(d.job.id),
                "serviceType": d.service_type.name,
                "dueDate": d.due_date.isoformat(),
                "daysUntilDue": d.days_until_due,
                "urgency": d.urgency,
                "provider": {"name": d.job.provider.business_name, "phone": d.job.provider.phone},
            }
            for d in due
        ]
    }
