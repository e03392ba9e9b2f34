"""WSGI entry point (gunicorn grantsconsole.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "grantsconsole.settings")
application = get_wsgi_application()
