"""The form that completes a job, shared by the provider portal and admin."""

from django import forms

from retention.models import Job, User

from .jobs import AmountError, checked_amount_paid


class CompleteJobForm(forms.Form):
    """The amount paid when completing a job, checked by the one amount rule
    (actions.jobs.checked_amount_paid): for a provider, at most MAX_AMOUNT_FACTOR x the
    list price; a staff member may record any amount."""

    amount = forms.CharField(label="Amount paid ($)", required=False, max_length=20)

    def __init__(self, *args, job: Job, completed_by: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        self.completed_by = completed_by

    def clean_amount(self):
        text = self.cleaned_data["amount"]
        try:
            return checked_amount_paid(job=self.job, amount=text or None, completed_by=self.completed_by)
        except AmountError as exc:
            raise forms.ValidationError(str(exc), code=exc.code) from None
