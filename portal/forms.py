from django import forms

from actions.jobs import first_bookable_day
from retention.models import PromoCode, ServiceType


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, service_type):
        return f"{service_type.name} (${service_type.base_price})"


class BookingForm(forms.Form):
    service_type = ServiceChoiceField(queryset=ServiceType.objects.order_by("name"), empty_label=None, label="Service")
    scheduled_for = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    saved_code = forms.ChoiceField(label="Your codes and vouchers", required=False)
    promo_code = forms.CharField(
        label="Promo code (optional)",
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, own_codes: list[PromoCode] = (), services: list[ServiceType] | None = None, **kwargs):
        """own_codes: the customer's unused, unexpired codes (campaigns.selectors.active_promo_codes).
        services: the service types in name order, when the view has read them already; the
        select is drawn from that list instead of querying again (a posted choice is still
        checked against the database)."""
        super().__init__(*args, **kwargs)
        if services is not None:
            field = self.fields["service_type"]
            field.choices = [(service.pk, field.label_from_instance(service)) for service in services]
        self.fields["scheduled_for"].widget.attrs["min"] = first_bookable_day().isoformat()
        self.own_codes = list(own_codes)
        self.fields["saved_code"].choices = [("", "None")] + [(promo.code, promo.code) for promo in self.own_codes]

    def code_text(self) -> str:
        """The code to price with: one typed in wins over one picked from the list."""
        return self.cleaned_data["promo_code"].strip() or self.cleaned_data["saved_code"]
