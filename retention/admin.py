"""Staff admin for the shared core. Job actions that span apps live in actions/admin.py."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import Customer, JobRun, Notification, OutboundEmail, PromoCode, Provider, ServiceType, User


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
    list_display = ["subject", "to_email", "kind", "template", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "kind", "template"]
    search_fields = ["to_email", "subject", "idempotency_key"]
    list_select_related = ["customer__user"]
    raw_id_fields = ["customer"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["name", "as_of", "status", "dry_run", "started_at", "finished_at"]
    list_filter = ["name", "status", "dry_run"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request):
        return False
