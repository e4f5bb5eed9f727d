"""Staff admin for loyalty: rewards are edited here; accounts and the ledger are
read-only, and points change only through "Adjust points", which records the
reason and the staff member (loyalty.services.adjust_points)."""

from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from retention.models import Customer

from .models import LoyaltyAccount, PointsEntry, Redemption, Reward, TierUpgrade
from .services import LoyaltyError, adjust_points


class RewardForm(forms.ModelForm):
    """Says in words what the database constraints on rewards refuse."""

    class Meta:
        model = Reward
        fields = "__all__"

    def clean(self):
        data = super().clean()
        kind, value = data.get("reward_type"), data.get("reward_value")
        if data.get("points_cost") == 0:
            self.add_error("points_cost", "A reward must cost at least 1 point.")
        if value is not None and value <= 0:
            self.add_error("reward_value", "The value must be more than zero.")
        if kind == Reward.RewardType.PERCENT_OFF and value is not None and value > 100:
            self.add_error("reward_value", "A percent off cannot be more than 100.")
        if kind == Reward.RewardType.FREE_SERVICE and not data.get("service_type"):
            self.add_error("service_type", "Pick the service this free-service reward covers.")
        return data


@admin.register(Reward)
class RewardAdmin(admin.ModelAdmin):
    form = RewardForm
    list_display = ["name", "points_cost", "reward_type", "reward_value", "service_type", "active"]
    list_filter = ["active", "reward_type"]
    list_editable = ["active"]
    search_fields = ["name", "description"]
    readonly_fields = ["id", "created_at"]

    def get_changelist_form(self, request, **kwargs):
        """The list's Active checkboxes each say which reward they switch (a label for
        screen readers: the list shows the name only in another column)."""
        base = super().get_changelist_form(request, **kwargs)

        class LabelledActiveForm(base):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.fields["active"].widget.attrs["aria-label"] = f"Active: {self.instance.name}"

        return LabelledActiveForm

    fields = [
        "id", "name", "description", "points_cost", "reward_type", "reward_value",
        "service_type", "voucher_valid_days", "active", "created_at",
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by loyalty.services: staff may look, never edit."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PointsEntryInline(admin.TabularInline):
    model = PointsEntry
    fields = ["created_at", "points", "type", "description", "job", "redemption", "created_by"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AdjustPointsForm(forms.Form):
    customer_email = forms.EmailField(label="Customer email")
    points = forms.IntegerField(
        help_text="Positive grants points, negative deducts them. Lifetime points and tier do not change."
    )
    reason = forms.CharField(
        max_length=300, widget=forms.Textarea(attrs={"rows": 2}), help_text="Required; the customer sees it in their history."
    )

    def clean_customer_email(self):
        email = self.cleaned_data["customer_email"]
        customer = Customer.objects.filter(user__email__iexact=email).select_related("user").first()
        if customer is None:
            raise forms.ValidationError("No customer has that email.")
        self.customer = customer
        return email

    def clean_points(self):
        if self.cleaned_data["points"] == 0:
            raise forms.ValidationError("Adjust by a non-zero number of points.")
        return self.cleaned_data["points"]

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the points are adjusted.")
        return reason


@admin.register(LoyaltyAccount)
class LoyaltyAccountAdmin(ReadOnlyAdmin):
    list_display = ["customer", "points", "lifetime_points", "tier", "updated_at"]
    list_filter = ["tier"]
    search_fields = ["customer__user__email", "customer__user__name"]
    list_select_related = ["customer__user"]
    readonly_fields = ["customer", "points", "lifetime_points", "tier", "updated_at", "adjust_link"]
    fields = readonly_fields
    inlines = [PointsEntryInline]

    @admin.display(description="Adjust")
    def adjust_link(self, obj):
        url = reverse("admin:loyalty_adjust_points") + "?" + urlencode({"email": obj.customer.email})
        return format_html('<a class="button" href="{}">Adjust points</a>', url)

    def get_urls(self):
        return [
            path("adjust/", self.admin_site.admin_view(self.adjust_view), name="loyalty_adjust_points"),
            *super().get_urls(),
        ]

    def adjust_view(self, request):
        if not request.user.has_perm("loyalty.add_pointsentry"):
            raise PermissionDenied
        form = AdjustPointsForm(request.POST or None, initial={"customer_email": request.GET.get("email", "")})
        if request.method == "POST" and form.is_valid():
            try:
                entry = adjust_points(
                    customer=form.customer,
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    staff=request.user,
                )
            except LoyaltyError as exc:
                form.add_error("points", str(exc))
            else:
                self.log_addition(request, entry, f"Adjusted {entry.points:+d} points: {entry.description}")
                self.message_user(
                    request, f"Adjusted {form.customer.email} by {entry.points:+,d} points.", messages.SUCCESS
                )
                return redirect("admin:loyalty_loyaltyaccount_change", entry.account_id)
        context = {
            **self.admin_site.each_context(request),
            "title": "Adjust points",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/loyalty/adjust_points.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "adjust_url": reverse("admin:loyalty_adjust_points")}
        return super().changelist_view(request, extra_context)


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "points", "type", "description", "job", "created_by"]
    list_filter = ["type", "created_at"]
    search_fields = ["account__customer__user__email", "description"]
    list_select_related = ["account__customer__user", "job__service_type", "job__customer__user", "created_by"]
    date_hierarchy = "created_at"


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "reward", "points_spent", "voucher"]
    list_filter = ["reward"]
    search_fields = ["account__customer__user__email", "voucher__code"]
    list_select_related = ["account__customer__user", "reward", "voucher"]
    date_hierarchy = "created_at"


@admin.register(TierUpgrade)
class TierUpgradeAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "from_tier", "to_tier", "job"]
    list_filter = ["to_tier"]
    list_select_related = ["account__customer__user", "job__service_type", "job__customer__user"]
