from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Service reminders and win-back"

    def ready(self):
        from .emails import register_samples

        register_samples()
