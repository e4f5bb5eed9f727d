"""Staff edit campaigns here. Saving a campaign that shares a month with another
active one is refused by Campaign.clean(), naming the other campaign; the database
constraint backs it up."""

from django.contrib import admin

from .models import Campaign, CampaignSend, PromoCodeAttempt


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["__str__", "season", "month_range", "discount_percent", "promo_valid_days", "active"]
    list_filter = ["season", "active"]
    search_fields = ["title"]
    filter_horizontal = ["service_types"]
    fields = [
        "season",
        "title",
        "description",
        "discount_percent",
        ("start_month", "end_month"),
        "service_types",
        "promo_valid_days",
        "active",
    ]

    @admin.display(description="Months")
    def month_range(self, campaign):
        return campaign.month_range_label


@admin.register(CampaignSend)
class CampaignSendAdmin(admin.ModelAdmin):
    list_display = ["campaign", "customer", "season_year", "promo_code", "sent_at"]
    list_filter = ["campaign", "season_year"]
    search_fields = ["customer__user__email", "promo_code__code"]
    list_select_related = ["campaign", "customer__user", "promo_code"]
    raw_id_fields = ["customer", "promo_code"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(PromoCodeAttempt)
class PromoCodeAttemptAdmin(admin.ModelAdmin):
    list_display = ["customer", "attempted_at", "wrong"]
    list_filter = ["wrong"]
    search_fields = ["customer__user__email"]
    list_select_related = ["customer__user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
