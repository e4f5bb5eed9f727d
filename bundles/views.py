"""The bundle page: what the bundle holds and costs, a date, and one button."""

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render

from actions.jobs import BookingError
from portal.access import customer_required
from retention.clock import business_today

from .selectors import bundle_offer
from .services import book_bundle


class BundleBookingForm(forms.Form):
    scheduled_for = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))


@customer_required
def bundle_page(request, bundle_id: int):
    offer = bundle_offer(customer=request.customer, bundle_id=bundle_id)
    if offer is None:
        raise Http404("This bundle is not offered now.")
    if request.method == "POST":
        form = BundleBookingForm(request.POST)
        if form.is_valid():
            try:
                jobs = book_bundle(
                    customer=request.customer,
                    offer=offer,
                    scheduled_for=form.cleaned_data["scheduled_for"],
                    promo_code_text=request.POST.get("promo_code", ""),
                )
            except BookingError as exc:
                form.add_error(None, str(exc))
            else:
                total = sum(job.amount_paid for job in jobs)
                messages.success(
                    request,
                    f"Booked the {offer.bundle.name} bundle on {jobs[0].scheduled_for:%B %-d}: "
                    f"{', '.join(job.service_type.name for job in jobs)} for ${total}.",
                )
                return redirect("portal:jobs")
    else:
        form = BundleBookingForm(initial={"scheduled_for": business_today() + dt.timedelta(days=1)})
    return render(request, "bundles/bundle.html", {"offer": offer, "form": form})
