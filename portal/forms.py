from django import forms

from retention.models import ServiceType


class BookingForm(forms.Form):
    service_type = forms.ModelChoiceField(
        queryset=ServiceType.objects.order_by("name"), empty_label=None, label="Service"
    )
    scheduled_for = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    promo_code = forms.CharField(
        label="Promo code (optional)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
