"""Staff admin for the outbox: every email as sent, retry, and a preview of every template."""

from functools import partial

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .after_response import deliver_after_response
from .batches import BATCH_LIMIT, retry_emails
from .models import OutboundEmail
from .preview import render_all_previews


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
        url = reverse("admin:outbox_outboundemail_rendered", args=[email.pk])
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
            path("preview/", self.admin_site.admin_view(self.preview_view), name="outbox_email_preview"),
            path("<int:pk>/rendered/", self.admin_site.admin_view(self.rendered_view),
                 name="outbox_outboundemail_rendered"),
        ]
        return urls + super().get_urls()

    def rendered_view(self, request, pk):
        email = get_object_or_404(OutboundEmail, pk=pk)
        if not self.has_view_permission(request, email):
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": email.subject, "email": email,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/outbox/outboundemail/rendered.html", context)

    def preview_view(self, request):
        if not request.user.is_staff:
            raise PermissionDenied
        context = {**self.admin_site.each_context(request), "title": "Email templates with sample data",
                   "previews": render_all_previews(), "opts": self.model._meta}
        return TemplateResponse(request, "admin/outbox/outboundemail/preview.html", context)
