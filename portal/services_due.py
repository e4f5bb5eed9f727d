"""The customer's services page: each service they have had, when it is next due, and
a way to book it again. Linked from the ServiceDueAlert ("View All Services")."""

from django.shortcuts import render

from reminders.selectors import service_summaries
from retention.clock import business_today

from .access import customer_required


@customer_required
def services(request):
    return render(
        request,
        "portal/services_due.html",
        {"services": service_summaries(customer=request.customer, today=business_today())},
    )
