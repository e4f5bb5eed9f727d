"""Job admin lives here, not in retention/admin.py, because its actions call the
job lifecycle, which spans loyalty and reminders.

Staff complete a job with the amount actually paid on its "Complete" page: the same
form and amount rule as the provider's, except that staff may record any amount
(PRODUCT.md); who completed it is recorded on the job."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from retention.models import Job

from .forms import CompleteJobForm
from .jobs import AmountError, JobStateError, cancel_job, complete_job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "scheduled_for", "service_type", "customer", "provider", "status", "price", "amount_paid",
        "next_due_date", "complete_link",
    ]
    list_filter = ["status", "service_type", "scheduled_for", "next_due_date"]
    search_fields = ["id", "customer__user__email", "customer__user__name", "provider__business_name"]
    list_select_related = ["service_type", "customer__user", "provider"]
    raw_id_fields = ["customer", "provider", "promo_code"]
    date_hierarchy = "scheduled_for"
    readonly_fields = [
        "status", "completed_at", "completed_by", "cancelled_at", "next_due_date", "created_at", "complete_link",
    ]
    actions = ["mark_completed", "mark_cancelled"]

    def get_readonly_fields(self, request, obj=None):
        # Points were earned on what was paid: once completed or cancelled, the amounts stay.
        if obj is not None and obj.status != Job.Status.SCHEDULED:
            return [*self.readonly_fields, "price", "amount_paid"]
        return self.readonly_fields

    @admin.display(description="Complete")
    def complete_link(self, obj):
        if obj.status != Job.Status.SCHEDULED:
            return "-"
        return format_html('<a class="button" href="{}">Complete…</a>', reverse("admin:actions_job_complete", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<uuid:job_id>/complete/", self.admin_site.admin_view(self.complete_view), name="actions_job_complete"),
            *super().get_urls(),
        ]

    def complete_view(self, request, job_id):
        if not self.has_change_permission(request):
            raise PermissionDenied
        job = get_object_or_404(Job.objects.select_related("service_type", "customer__user", "provider"), pk=job_id)
        form = CompleteJobForm(request.POST or None, job=job, completed_by=request.user, initial={"amount": job.amount_paid})
        if request.method == "POST" and form.is_valid():
            try:
                complete_job(job=job, amount=form.cleaned_data["amount"], completed_by=request.user)
            except (JobStateError, AmountError) as exc:
                form.add_error(None, str(exc))
            else:
                self.message_user(request, f"Completed {job}; the amount paid and your name are recorded.")
                return redirect("admin:retention_job_change", job.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Complete {job}",
            "job": job,
            "form": form,
        }
        return TemplateResponse(request, "admin/retention/job/complete.html", context)

    @admin.action(description="Mark selected jobs completed (awards points)", permissions=["change"])
    def mark_completed(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                done += complete_job(job=job, completed_by=request.user).completed_now
            except JobStateError as exc:
                self.message_user(request, f"{job}: {exc}", messages.WARNING)
        self.message_user(request, f"Completed {done} job(s).")

    @admin.action(description="Cancel selected jobs (reverses points of completed ones)", permissions=["change"])
    def mark_cancelled(self, request, queryset):
        cancelled = 0
        for job in queryset.exclude(status=Job.Status.CANCELLED):
            cancel_job(job=job)
            cancelled += 1
        self.message_user(request, f"Cancelled {cancelled} job(s).")
