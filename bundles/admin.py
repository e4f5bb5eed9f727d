"""Staff define bundles here: two or more service types, a discount, optional months."""

from django import forms
from django.contrib import admin

from .models import Bundle


class BundleForm(forms.ModelForm):
    class Meta:
        model = Bundle
        fields = "__all__"

    def clean_service_types(self):
        services = self.cleaned_data["service_types"]
        if len(services) < 2:
            raise forms.ValidationError("A bundle needs two or more service types.")
        return services


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    form = BundleForm
    list_display = ["name", "services", "discount_percent", "months", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    filter_horizontal = ["service_types"]
    fields = [
        "name",
        "description",
        "service_types",
        "discount_percent",
        ("start_month", "end_month"),
        "active",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("service_types")

    @admin.display(description="Services")
    def services(self, bundle):
        return ", ".join(s.name for s in bundle.service_types.all())

    @admin.display(description="Months")
    def months(self, bundle):
        return bundle.month_range_label
