"""Django settings for Kefu. Everything environment-specific comes from KEFU_* variables."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KEFU_DATA_DIR", Path.cwd() / "data"))

DEBUG = os.environ.get("KEFU_DEBUG", "0") == "1"


def _secret_key() -> str:
    """KEFU_SECRET_KEY, or a key generated once into the data directory (mode 600) and read back.

    Every process of one installation (web, worker, scheduler) reads the same file; O_EXCL makes the
    first writer win when several start at once. There is no key in the source.
    """
    given = os.environ.get("KEFU_SECRET_KEY")
    if given:
        return given
    import secrets

    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
    import time

    for _attempt in range(50):  # another process may be between creating the file and writing it
        key = path.read_text().strip()
        if key:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty: delete it or set KEFU_SECRET_KEY")


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h for h in os.environ.get("KEFU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the OpenAPI docs' swagger-ui from the package, not a CDN
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "kefu.core",
    "kefu.customers",
    "kefu.catalog",
    "kefu.orders",
    "kefu.conversations",
    "kefu.metrics",
    "kefu.importers",
    "kefu.workforce",
    "kefu.demo",
    "kefu.approvals",
    "kefu.followups",
    "kefu.aftersales",
    "kefu.outbound",
    "kefu.shipping",
    "kefu.replies",
    "kefu.crm",
    "kefu.sla",
    "kefu.defects",
    "kefu.integrations",
    "kefu.complaints",
    "kefu.quality",
    "kefu.care",
    "kefu.people",
    "kefu.reports",
    "kefu.livechat",
    "kefu.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kefu.core.middleware.RejectBadTextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kefu.core.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kefu.web.middleware.HtmxMessagesMiddleware",
    "kefu.core.middleware.ShopMiddleware",
    "kefu.web.middleware.ShopTimezoneMiddleware",
]

ROOT_URLCONF = "kefu.urls"
WSGI_APPLICATION = "kefu.wsgi.application"
ASGI_APPLICATION = "kefu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kefu.web.context.nav",
            ],
        },
    }
]


def _database():
    url = os.environ.get("KEFU_DATABASE_URL") or f"sqlite:///{DATA_DIR / 'kefu.sqlite3'}"
    db = dj_database_url.parse(url, conn_max_age=0 if url.startswith("sqlite") else 60)
    # How long a write waits for another's lock before the request answers 503 (kefu.core.busy):
    # below gunicorn's 30 s worker timeout, so the answer is a clear "busy", not a killed worker.
    wait = float(os.environ.get("KEFU_DB_LOCK_WAIT", "20"))
    if db["ENGINE"].endswith("sqlite3"):
        db["ENGINE"] = "kefu.core.sqlite3"  # Django's, with exact money in aggregates
        # Tests use an in-memory database, as with Django's own engine name (pytest-django's xdist
        # suffix would otherwise turn the file's path into a test database name).
        db["TEST"] = {"NAME": ":memory:"}
        # WAL lets readers go on while the worker writes; IMMEDIATE avoids upgrade deadlocks.
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": wait,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        if os.environ.get("KEFU_DB_POOL") == "1":
            # Under ASGI (kefu/asgi.py): reuse the process's closed connections (kefu/core/sqlite3).
            db["OPTIONS"]["pool"] = int(os.environ.get("KEFU_DB_POOL_MAX", "10"))
    elif db["ENGINE"].endswith("postgresql"):
        options = db.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c lock_timeout={int(wait * 1000)}".strip()
        if os.environ.get("KEFU_DB_POOL") == "1":
            # Under ASGI every sync request runs in a thread of its own: persistent per-thread
            # connections would pile up, so the process keeps a pool instead (kefu/asgi.py turns it on).
            db["CONN_MAX_AGE"] = 0
            options["pool"] = {"min_size": 1, "max_size": int(os.environ.get("KEFU_DB_POOL_MAX", "10")), "timeout": 30}
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# KEFU_HTTPS=1: served over HTTPS (usually behind a reverse proxy that sets X-Forwarded-Proto).
HTTPS = os.environ.get("KEFU_HTTPS", "0") == "1"
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("KEFU_HSTS_SECONDS", str(365 * 24 * 3600)))
SESSION_COOKIE_AGE = 12 * 3600
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Login tries are counted in the database (core.LoginThrottle), shared by all server processes.
LOGIN_MAX_FAILURES = int(os.environ.get("KEFU_LOGIN_MAX_FAILURES", "5"))
LOGIN_LOCK_SECONDS = int(os.environ.get("KEFU_LOGIN_LOCK_SECONDS", "900"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# E-mail (the department report to the general manager): SMTP when KEFU_SMTP_HOST is set, otherwise
# each message is written as a file under the data directory (nothing is pretended to be sent).
if os.environ.get("KEFU_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["KEFU_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("KEFU_SMTP_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("KEFU_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("KEFU_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("KEFU_SMTP_TLS", "1") == "1"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(DATA_DIR / "mail")
DEFAULT_FROM_EMAIL = os.environ.get("KEFU_MAIL_FROM", "kefu@localhost")

STATIC_URL = "/static/"
STATIC_ROOT = os.environ.get("KEFU_STATIC_ROOT") or None
# Static files are served from the installed package (intranets: no CDN, no separate web server).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

TASKS = {
    "default": {
        "BACKEND": os.environ.get("KEFU_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "WARNING")},
}

# API ingestion: the biggest batch one request may carry.
KEFU_MAX_BATCH = 1000
