"""Staff admin for referrals: read-only rows written by referrals.services; blocked
referrals show why, and staff unblock (the reward follows if earned) or cancel them
through the same service functions."""

from django.contrib import admin, messages

from .models import Referral, ReferralCode, ReferralReward
from .services import ReferralError, cancel_referral, unblock_referral


class ReferralRewardInline(admin.TabularInline):
    model = ReferralReward
    fields = ["created_at", "points", "job", "entry", "reversed_at", "reversal_entry"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Referral)
class ReferralAdmin(admin.ModelAdmin):
    list_display = ["joined_at", "advocate_person", "friend_person", "status", "block_reason", "signup_ip", "first_job_at"]
    list_filter = ["status", "block_reason"]
    search_fields = [
        "advocate__user__email",
        "advocate__user__name",
        "friend__user__email",
        "friend__user__name",
        "signup_ip",
    ]
    list_select_related = ["advocate__user", "friend__user"]
    date_hierarchy = "joined_at"
    inlines = [ReferralRewardInline]
    actions = ["unblock", "cancel"]
    fields = [
        "advocate", "friend", "status", "block_reason", "block_detail", "signup_ip", "joined_at",
        "welcome_code", "first_job_at", "blocked_at", "cleared_by", "cleared_at", "cancelled_by", "cancelled_at",
    ]

    @admin.display(description="Advocate", ordering="advocate__user__email")
    def advocate_person(self, referral):
        return f"{referral.advocate.user.name} <{referral.advocate.user.email}>"

    @admin.display(description="Friend", ordering="friend__user__email")
    def friend_person(self, referral):
        return f"{referral.friend.user.name} <{referral.friend.user.email}>"

    def get_readonly_fields(self, request, obj=None):
        return self.fields  # written only by referrals.services

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Unblock: reward the advocate if the friend's first job is done")
    def unblock(self, request, queryset):
        self._each(request, queryset, unblock_referral, "unblocked")

    @admin.action(description="Cancel: never reward these referrals")
    def cancel(self, request, queryset):
        self._each(request, queryset, cancel_referral, "cancelled")

    def _each(self, request, queryset, step, done: str):
        changed = 0
        for referral in queryset:
            try:
                step(referral=referral, staff=request.user)
                changed += 1
            except ReferralError as exc:
                self.message_user(request, f"{referral}: {exc}", messages.WARNING)
        if changed:
            self.message_user(request, f"{changed} referral(s) {done}.", messages.SUCCESS)


@admin.register(ReferralCode)
class ReferralCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "customer", "opens", "created_at"]
    search_fields = ["code", "customer__user__email", "customer__user__name"]
    list_select_related = ["customer__user"]
    readonly_fields = ["customer", "code", "opens", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
