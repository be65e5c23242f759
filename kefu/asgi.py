"""The ASGI entry point `kefu start` serves (uvicorn workers under gunicorn): pages and API as
usual (sync views run in threads) and the live event streams asynchronously (docs/adr/0005)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
os.environ.setdefault("KEFU_DB_POOL", "1")  # a connection pool per process, both databases (see settings)
application = get_asgi_application()
