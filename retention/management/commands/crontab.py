"""`manage.py crontab add|show|remove|run`: django-crontab's command, which first makes
sure the host has the crontab program. Without it django-crontab's shell says
"/bin/sh: 1: /usr/bin/crontab: not found" and exits 0 as if the schedule were in place."""

import shutil

from django.conf import settings
from django.core.management.base import CommandError
from django_crontab.management.commands.crontab import Command as DjangoCrontabCommand


class Command(DjangoCrontabCommand):
    def handle(self, *args, **options):
        executable = settings.CRONTAB_EXECUTABLE
        if options["subcommand"] != "run" and not shutil.which(executable):
            raise CommandError(
                f"crontab {options['subcommand']}: no crontab program at {executable}; install cron "
                "(apt-get install -y cron) or set CRONTAB_EXECUTABLE. Nothing was changed."
            )
        return super().handle(*args, **options)
