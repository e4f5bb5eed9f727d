"""Staff views of reminders and win-back: the churn list of customers by days since
their last booking, and the reminder and win-back records (read-only)."""

from django.contrib import admin
from django.db.models import Q

from retention.clock import business_date, business_today

from .models import CustomerChurn, ServiceReminder, WinbackSend
from .selectors import (
    churn_stage,
    churn_stages,
    in_churn_stage,
    job_scheduled_ahead,
    with_churn_dates,
)


class DaysSinceLastBookingFilter(admin.SimpleListFilter):
    title = "days since last booking"
    parameter_name = "churn"

    def lookups(self, request, model_admin):
        return [(stage.key, stage.label) for stage in churn_stages()] + [("never", "Never booked")]

    def queryset(self, request, queryset):
        if self.value() == "never":
            return queryset.filter(last_booking_at__isnull=True)
        stages = [stage.key for stage in churn_stages()]
        if self.value() not in stages:
            return queryset
        in_stage = in_churn_stage(self.value(), business_today())
        # A job scheduled ahead makes a customer active, whenever they booked.
        if self.value() == stages[0]:
            return queryset.filter(in_stage | Q(job_ahead=True))
        return queryset.filter(in_stage, job_ahead=False)


@admin.register(CustomerChurn)
class CustomerChurnAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "last_booking", "days_since_last_booking", "stage", "job_scheduled_ahead", "last_reminder", "last_winback", "marketing_opt_in"]
    list_filter = [DaysSinceLastBookingFilter, "marketing_opt_in", "service_reminders_opt_in"]
    search_fields = ["user__email", "user__name", "phone"]
    list_select_related = ["user"]
    ordering = ["user__email"]
    show_full_result_count = False

    def get_queryset(self, request):
        # job_ahead: the win-back job's own "scheduled ahead" rule, so staff see a
        # customer as active exactly when win-back leaves them alone for it.
        return with_churn_dates(super().get_queryset(request)).annotate(job_ahead=job_scheduled_ahead(business_today()))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # edit customers in Retention > Customers

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Last booking", ordering="last_booking_at")
    def last_booking(self, obj):
        return obj.last_booking_at

    @admin.display(description="Days since")
    def days_since_last_booking(self, obj):
        if obj.last_booking_at is None:
            return None
        return (business_today() - business_date(obj.last_booking_at)).days

    @admin.display(description="Stage")
    def stage(self, obj):
        return churn_stage(self.days_since_last_booking(obj), job_ahead=obj.job_ahead)

    @admin.display(description="Job ahead", boolean=True)
    def job_scheduled_ahead(self, obj):
        return obj.job_ahead

    @admin.display(description="Last reminder", ordering="last_reminder_at")
    def last_reminder(self, obj):
        return obj.last_reminder_at

    @admin.display(description="Last win-back", ordering="last_winback_at")
    def last_winback(self, obj):
        return obj.last_winback_at


@admin.register(ServiceReminder)
class ServiceReminderAdmin(admin.ModelAdmin):
    list_display = ["job", "customer", "due_date", "sent_at"]
    list_select_related = ["job__service_type", "job__customer__user", "customer__user"]
    search_fields = ["customer__user__email"]
    date_hierarchy = "sent_at"
    readonly_fields = ["job", "customer", "due_date", "sent_at"]

    def has_add_permission(self, request):
        return False


@admin.register(WinbackSend)
class WinbackSendAdmin(admin.ModelAdmin):
    list_display = ["customer", "promo_code", "sent_on", "sent_at"]
    list_select_related = ["customer__user", "promo_code"]
    search_fields = ["customer__user__email", "promo_code__code"]
    date_hierarchy = "sent_at"
    readonly_fields = ["customer", "promo_code", "sent_on", "sent_at"]

    def has_add_permission(self, request):
        return False
