"""Staff admin for the shared core. Job actions that span apps live in actions/admin.py."""

import json

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.html import format_html

from .models import (
    Customer,
    JobRun,
    Notification,
    PromoCode,
    Provider,
    ServiceType,
    User,
)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Personal info", {"fields": ["name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]})]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "email", "phone", "marketing_opt_in", "service_reminders_opt_in", "created_at"]
    list_filter = ["marketing_opt_in", "service_reminders_opt_in"]
    search_fields = ["user__email", "user__name", "phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["business_name", "phone", "user"]
    list_filter = ["service_types"]
    search_fields = ["business_name", "user__email", "phone"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    filter_horizontal = ["service_types"]


@admin.register(ServiceType)
class ServiceTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "frequency_days", "base_price"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PromoCode)
class PromoCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "customer", "source", "discount_type", "discount_value", "expires_at", "used_at"]
    list_filter = ["source", "discount_type", ("used_at", admin.EmptyFieldListFilter), "expires_at"]
    search_fields = ["code", "customer__user__email"]
    list_select_related = ["customer__user"]
    raw_id_fields = ["customer"]
    filter_horizontal = ["service_types"]
    readonly_fields = ["code", "used_at", "created_at"]
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["title", "customer", "kind", "created_at", "read_at"]
    list_filter = ["kind", ("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "customer__user__email"]
    list_select_related = ["customer__user"]
    raw_id_fields = ["customer"]
    date_hierarchy = "created_at"


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "as_of", "status", "dry_run", "started_at", "finished_at", "duration", "summary"]
    list_filter = ["name", "status", "dry_run"]
    search_fields = ["name", "error"]
    date_hierarchy = "started_at"
    readonly_fields = ["stats_pretty", *[f.name for f in JobRun._meta.fields if f.name != "stats"]]
    exclude = ["stats"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="Took")
    def duration(self, run):
        if not run.finished_at:
            return "-"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f}s"

    @admin.display(description="Stats")
    def summary(self, run):
        stats = run.stats or {}
        parts = [f"{k} {stats[k]}" for k in ("eligible", "sent", "skipped", "failed") if k in stats]
        if stats.get("locked"):
            parts.append("another copy was running")
        return ", ".join(parts) or "-"

    @admin.display(description="Stats")
    def stats_pretty(self, run):
        return format_html("<pre>{}</pre>", json.dumps(run.stats, indent=2, ensure_ascii=False))
