from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Maintenance plans"

    def ready(self):
        from .emails import register_samples

        register_samples()
