"""Staff can read the co-occurrence table and the record of what was shown; both are
written only by the code (refresh_recommendations, the widget and the API)."""

from django.contrib import admin

from .models import RecommendationShown, ServicePair


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ServicePair)
class ServicePairAdmin(ReadOnlyAdmin):
    list_display = [
        "service_type",
        "recommended",
        "customers",
        "support",
        "confidence",
        "lift",
        "as_of",
    ]
    list_filter = ["service_type"]
    list_select_related = ["service_type", "recommended"]
    ordering = ["-lift"]


@admin.register(RecommendationShown)
class RecommendationShownAdmin(ReadOnlyAdmin):
    list_display = ["customer", "service_type", "reason", "shown_on", "shown_at"]
    list_filter = ["reason", "service_type"]
    search_fields = ["customer__user__email"]
    list_select_related = ["customer__user", "service_type"]
    date_hierarchy = "shown_at"
