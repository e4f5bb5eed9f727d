"""Job admin lives here, not in retention/admin.py, because its actions call the
job lifecycle, which spans loyalty and reminders."""

from django.contrib import admin, messages

from retention.models import Job

from .jobs import JobStateError, cancel_job, complete_job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["scheduled_for", "service_type", "customer", "provider", "status", "price", "amount_paid", "next_due_date"]
    list_filter = ["status", "service_type", "scheduled_for", "next_due_date"]
    search_fields = ["id", "customer__user__email", "customer__user__name", "provider__business_name"]
    list_select_related = ["service_type", "customer__user", "provider"]
    raw_id_fields = ["customer", "provider", "promo_code"]
    date_hierarchy = "scheduled_for"
    readonly_fields = ["status", "completed_at", "cancelled_at", "next_due_date", "created_at"]
    actions = ["mark_completed", "mark_cancelled"]

    @admin.action(description="Mark selected jobs completed (awards points)", permissions=["change"])
    def mark_completed(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                done += complete_job(job=job).completed_now
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
