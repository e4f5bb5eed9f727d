from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Seasonal campaigns"

    def ready(self):
        from .emails import register_samples

        register_samples()
