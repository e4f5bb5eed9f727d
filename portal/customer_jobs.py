"""A customer's own scheduled jobs: cancel, move to another day, add to a calendar.
Each goes through the lifecycle actions (actions/jobs.py), never around them."""

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from actions.jobs import BookingError, JobStateError, cancel_job, first_bookable_day, reschedule_job
from retention.models import Job

from .access import customer_required
from .calendar import job_calendar


def _own_job(request, job_id) -> Job:
    """The caller's own job or 404: another customer's job is "not found"."""
    return get_object_or_404(
        Job.objects.select_related("service_type", "provider", "promo_code"), pk=job_id, customer=request.customer
    )


class RescheduleForm(forms.Form):
    scheduled_for = forms.DateField(label="New date", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scheduled_for"].widget.attrs["min"] = first_bookable_day().isoformat()


@require_POST
@customer_required
def cancel(request, job_id):
    job = _own_job(request, job_id)
    if job.status != Job.Status.SCHEDULED:
        messages.error(request, "Only a scheduled job can be cancelled here.")
        return redirect("portal:jobs")
    code = job.promo_code
    job = cancel_job(job=job)
    text = f"Cancelled {job.service_type.name} on {job.scheduled_for:%B %-d}."
    if code is not None and job.promo_code_id is None:
        text += f" Your code {code.code} is yours to use again."
    messages.success(request, text)
    return redirect("portal:jobs")


@customer_required
def reschedule(request, job_id):
    job = _own_job(request, job_id)
    form = RescheduleForm(request.POST or None, initial={"scheduled_for": job.scheduled_for})
    if request.method == "POST" and form.is_valid():
        try:
            job = reschedule_job(job=job, scheduled_for=form.cleaned_data["scheduled_for"])
        except (BookingError, JobStateError) as exc:
            form.add_error("scheduled_for", str(exc))
        else:
            messages.success(request, f"Moved {job.service_type.name} to {job.scheduled_for:%A, %B %-d}.")
            return redirect("portal:jobs")
    return render(request, "portal/reschedule.html", {"job": job, "form": form})


@customer_required
def calendar_file(request, job_id):
    job = _own_job(request, job_id)
    response = HttpResponse(job_calendar(job), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{job.service_type.slug}-{job.scheduled_for}.ics"'
    return response
