from django import forms
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.core.exceptions import ValidationError

from retention.models import User


class SignUpForm(forms.Form):
    name = forms.CharField(label="Your name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )

    def clean(self):
        data = super().clean()
        password = data.get("password")
        if password:
            # Django's validators, with the person's name and email for the similarity check.
            person = User(email=data.get("email", ""), name=data.get("name", ""))
            try:
                validate_password(password, user=person)
            except ValidationError as error:
                self.add_error("password", error)
        return data
