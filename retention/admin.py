"""Staff admin for the shared core. Job actions that span apps live in actions/admin.py."""

import json
from functools import partial

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .delivery import BATCH_LIMIT, deliver_after_response, retry_emails
from .email_preview import render_all_previews
from .models import (
    Customer,
    JobRun,
    Notification,
    OutboundEmail,
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


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["subject", "to_email", "kind", "template", "status", "attempts", "created_at", "sent_at", "error"]
    list_filter = ["status", "kind", "template", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["to_email", "=idempotency_key", "=batch_key", "=provider_message_id", "subject"]
    search_help_text = "Search by recipient email, subject, or an exact idempotency, batch or Resend id."
    list_select_related = ["customer__user"]
    raw_id_fields = ["customer"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = ["rendered_link", *[f.name for f in OutboundEmail._meta.fields]]
    fieldsets = [
        (None, {"fields": ["rendered_link", "to_email", "customer", "kind", "template", "subject", "status"]}),
        ("Delivery", {"fields": ["idempotency_key", "batch_key", "claimed_at", "attempts", "next_attempt_at",
                                 "last_error", "provider_message_id", "created_at", "sent_at"]}),
        ("Content", {"classes": ["collapse"], "fields": ["headers", "text_body", "html_body"]}),
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # rows are written by the outbox only; staff retry through the action

    @admin.display(description="Last error")
    def error(self, email):
        return (email.last_error[:80] + "…") if len(email.last_error) > 80 else email.last_error

    @admin.display(description="Rendered email")
    def rendered_link(self, email):
        if email.pk is None:
            return "-"
        url = reverse("admin:retention_outboundemail_rendered", args=[email.pk])
        return format_html('<a href="{}">View the email as sent</a>', url)

    @admin.action(description="Retry the selected emails (failed ones re-queue; waiting ones go now)",
                  permissions=["view"])
    def retry(self, request, queryset):
        # The first batch of the selection goes now; the rest with deliver_emails.
        keys = list(queryset.values_list("idempotency_key", flat=True)[:BATCH_LIMIT])
        count = retry_emails(queryset)
        transaction.on_commit(partial(deliver_after_response, keys))
        self.message_user(request, f"{count} email(s) queued again; delivery is starting.", messages.SUCCESS)

    def get_urls(self):
        urls = [
            path("preview/", self.admin_site.admin_view(self.preview_view), name="retention_email_preview"),
            path("<int:pk>/rendered/", self.admin_site.admin_view(self.rendered_view),
                 name="retention_outboundemail_rendered"),
        ]
        return urls + super().get_urls()

    def rendered_view(self, request, pk):
        email = get_object_or_404(OutboundEmail, pk=pk)
        if not self.has_view_permission(request, email):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": email.subject, "email": email,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/retention/outboundemail/rendered.html", context)

    def preview_view(self, request):
        if not request.user.is_staff:
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Email templates with sample data",
                   "previews": render_all_previews(), "opts": self.model._meta}
        return TemplateResponse(request, "admin/retention/outboundemail/preview.html", context)


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
