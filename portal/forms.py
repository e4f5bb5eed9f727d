from django import forms
from django.contrib.auth.forms import AuthenticationForm

from retention.models import ServiceType


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


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


class CompleteJobForm(forms.Form):
    amount = forms.DecimalField(
        label="Amount paid ($)", min_value=0, max_digits=10, decimal_places=2, required=False
    )
