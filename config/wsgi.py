import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# The web server delivers a request's emails on a background thread after the response.
os.environ.setdefault("EMAIL_DELIVER_IN_BACKGROUND", "true")

application = get_wsgi_application()
