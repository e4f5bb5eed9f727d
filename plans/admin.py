"""Staff: plans, and subscriptions with their visits and history. Pausing, resuming and
cancelling go through plans.actions, recorded with the staff member."""

from django.contrib import admin, messages

from .actions import PlanError, cancel_subscription, pause, resume
from .models import Plan, PlanVisit, Subscription, SubscriptionChange


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "service_type", "interval_days", "discount_percent", "bonus_points_percent", "active"]
    list_filter = ["active", "service_type"]
    search_fields = ["name"]


class PlanVisitInline(admin.TabularInline):
    model = PlanVisit
    fields = ["scheduled_for", "status", "job"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-scheduled_for"]

    def has_add_permission(self, request, obj=None):
        return False


class SubscriptionChangeInline(admin.TabularInline):
    model = SubscriptionChange
    fields = ["changed_at", "action", "note", "changed_by"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


def _apply(action, label):
    def run(modeladmin, request, queryset):
        done = 0
        for subscription in queryset.select_related("customer"):
            try:
                action(customer=subscription.customer, subscription_id=subscription.pk, by=request.user)
                done += 1
            except PlanError as exc:
                modeladmin.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
        modeladmin.message_user(request, f"{label}: {done} subscription(s).")

    run.__name__ = f"{action.__name__}_selected"
    run.short_description = f"{label} the selected subscriptions"
    return run


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "plan", "status", "start_date", "created_at"]
    list_filter = ["status", "plan"]
    search_fields = ["customer__user__email", "customer__user__name"]
    list_select_related = ["plan", "customer__user"]
    readonly_fields = ["customer", "plan", "status", "start_date", "created_at", "cancelled_at"]
    inlines = [PlanVisitInline, SubscriptionChangeInline]
    actions = [_apply(pause, "Paused"), _apply(resume, "Resumed"), _apply(cancel_subscription, "Cancelled")]

    def has_add_permission(self, request):
        return False  # customers subscribe (a first visit is booked); staff change what exists
