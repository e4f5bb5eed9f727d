from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    verbose_name = "Loyalty program"

    def ready(self):
        from .emails import register_samples

        register_samples()
