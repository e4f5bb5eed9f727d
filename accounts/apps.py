from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from outbox.consent import Kind
        from outbox.preview import register_sample

        from .forms import PASSWORD_RESET_TEMPLATE, password_reset_sample

        register_sample(PASSWORD_RESET_TEMPLATE, Kind.TRANSACTIONAL, password_reset_sample)
