"""One environment-driven settings file.

Every default runs a fresh checkout against the built-in Okta org simulator
(``python manage.py oktasim``) on SQLite with a filesystem Celery broker. With
``GRANTSCONSOLE_ENV=production`` every secret must come from the environment, the
demo credentials are refused, and a missing or invalid variable stops start-up with
an ``ImproperlyConfigured`` error that names it. Each variable is described in the
README ("Configuration").
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = os.environ.get("GRANTSCONSOLE_ENV", "development")
if ENVIRONMENT not in ("development", "production"):
    raise ImproperlyConfigured(
        f"GRANTSCONSOLE_ENV must be 'development' or 'production', not {ENVIRONMENT!r}."
    )
PRODUCTION = ENVIRONMENT == "production"


def env(name: str, default: str | None = None) -> str:
    """Return the environment variable ``name``.

    In production a variable without a value and without a production default
    raises ImproperlyConfigured naming it; in development ``default`` is used.
    """
    value = os.environ.get(name, "")
    if value != "":
        return value
    if default is None:
        raise ImproperlyConfigured(f"The environment variable {name} is required.")
    return default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "")
    if value == "":
        return default
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    if value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be an integer, not {value!r}."
        ) from None


# --- The demo org (the simulator's fixed seed; docs/simulator.md "The demo org") ---
# These are development defaults only; production refuses every one of them.
DEMO_ORG_URL = "http://127.0.0.1:8001"
DEMO_CONSOLE_CLIENT_ID = "0oa1consoleDEMO000x7"
DEMO_CONSOLE_CLIENT_SECRET = "demo-console-secret-not-for-production-0000000000"
DEMO_WORKER_CLIENT_ID = "0oa1workerDEMO0000x7"
DEMO_WORKER_KEY_FILE = (
    BASE_DIR / "grantsconsole" / "oktasim" / "seed" / "worker-key.pem"
)
DEMO_SSWS_TOKEN = "00demoSuperAdminSSWStoken0000000000000000"
DEMO_SECRET_KEY = "dev-only-secret-key-for-the-demo-org-never-use-in-production-0"
DEMO_TOKEN_ENCRYPTION_KEY = "ZGVtby10b2tlbi1lbmNyeXB0aW9uLWtleS0wMDAwMDA="
DEMO_AUDIT_HMAC_KEY = "dev-only-audit-checkpoint-key"


def _dev(value: str) -> str | None:
    """A development default; in production there is none (the variable is required)."""
    return None if PRODUCTION else value


# Off in development too: `make run` is the product on the demo org, so a wrong link
# gets the console's own 404 and 500 pages, not Django's technical pages (which list
# every URL and setting). DEBUG=true brings those back for someone debugging.
DEBUG = env_bool("DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be false when GRANTSCONSOLE_ENV=production.")

SECRET_KEY = env("SECRET_KEY", _dev(DEMO_SECRET_KEY))
if PRODUCTION and (SECRET_KEY == DEMO_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be a random value of at least 50 characters in production."
    )

ALLOWED_HOSTS = [
    h.strip()
    for h in env("ALLOWED_HOSTS", _dev("127.0.0.1,localhost,testserver")).split(",")
    if h.strip()
]
if PRODUCTION and (not ALLOWED_HOSTS or "*" in ALLOWED_HOSTS):
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS must list the console's host names in production (no '*')."
    )
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in env("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# --- Okta -------------------------------------------------------------------------


def org_url_problem(url: str) -> str:
    """Why ``url`` is not an Okta org URL (the Org Authorization Server's issuer,
    ``https://<org>.okta.com`` with no path), or "" when it is one. Only the Org
    Authorization Server mints tokens with ``okta.*`` scopes, so a custom
    authorization server (``…/oauth2/default``, ``…/oauth2/aus…``) or the Admin
    Console host (``<org>-admin.okta.com``) would make every grant useless."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    first, _, rest = host.partition(".")
    right = (
        f"https://{first.removesuffix('-admin')}.{rest}"
        if rest
        else "https://<org>.okta.com"
    )
    if parts.scheme != "https" or not host:
        return f"OKTA_ORG_URL must be an https:// URL in production, e.g. {right}."
    if parts.path.rstrip("/").startswith("/oauth2"):
        return (
            f"OKTA_ORG_URL {url} names an authorization server; only the Org "
            f"Authorization Server mints okta.* scopes. Use the org URL: {right}."
        )
    if first.endswith("-admin"):
        return (
            f"OKTA_ORG_URL {url} is the Admin Console's host, not the org's. Use the "
            f"org URL: {right}."
        )
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"OKTA_ORG_URL must be the org URL with no path, e.g. {right}."
    return ""


OKTA_ORG_URL = env("OKTA_ORG_URL", _dev(DEMO_ORG_URL)).rstrip("/")
if PRODUCTION and (_problem := org_url_problem(OKTA_ORG_URL)):
    raise ImproperlyConfigured(_problem)
OKTA_CONSOLE_CLIENT_ID = env("OKTA_CONSOLE_CLIENT_ID", _dev(DEMO_CONSOLE_CLIENT_ID))
OKTA_CONSOLE_CLIENT_SECRET = env(
    "OKTA_CONSOLE_CLIENT_SECRET", _dev(DEMO_CONSOLE_CLIENT_SECRET)
)
OKTA_SSWS_TOKEN = env("OKTA_SSWS_TOKEN", "")
# The demo worker app is only a development default when no worker credential
# is given at all: an explicit OKTA_SSWS_TOKEN must not lose to the demo key.
_DEMO_WORKER = not PRODUCTION and not OKTA_SSWS_TOKEN
OKTA_WORKER_CLIENT_ID = env(
    "OKTA_WORKER_CLIENT_ID", DEMO_WORKER_CLIENT_ID if _DEMO_WORKER else ""
)
OKTA_WORKER_PRIVATE_KEY = env(
    "OKTA_WORKER_PRIVATE_KEY",
    DEMO_WORKER_KEY_FILE.read_text()
    if _DEMO_WORKER and DEMO_WORKER_KEY_FILE.exists()
    else "",
).replace("\\n", "\n")
OKTA_WORKER_KEY_ID = env("OKTA_WORKER_KEY_ID", "")
if PRODUCTION:
    if not (OKTA_WORKER_CLIENT_ID and OKTA_WORKER_PRIVATE_KEY) and not OKTA_SSWS_TOKEN:
        raise ImproperlyConfigured(
            "Set OKTA_WORKER_CLIENT_ID and OKTA_WORKER_PRIVATE_KEY (or the legacy "
            "OKTA_SSWS_TOKEN) so the worker can read Okta."
        )
    for _name, _value, _demo in (
        ("OKTA_CONSOLE_CLIENT_ID", OKTA_CONSOLE_CLIENT_ID, DEMO_CONSOLE_CLIENT_ID),
        (
            "OKTA_CONSOLE_CLIENT_SECRET",
            OKTA_CONSOLE_CLIENT_SECRET,
            DEMO_CONSOLE_CLIENT_SECRET,
        ),
        ("OKTA_WORKER_CLIENT_ID", OKTA_WORKER_CLIENT_ID, DEMO_WORKER_CLIENT_ID),
        ("OKTA_SSWS_TOKEN", OKTA_SSWS_TOKEN, DEMO_SSWS_TOKEN),
    ):
        # Stripped: a pasted value often carries a stray space or newline.
        if _value.strip() == _demo:
            raise ImproperlyConfigured(
                f"{_name} holds the demo org's value; production refuses it."
            )
# Share of each Okta rate-limit bucket this console may use (Okta advises 50% for
# tools that share an org).
OKTA_RATE_LIMIT_SHARE = float(env("OKTA_RATE_LIMIT_SHARE", "0.5"))
if not 0 < OKTA_RATE_LIMIT_SHARE <= 1:
    raise ImproperlyConfigured("OKTA_RATE_LIMIT_SHARE must be in (0, 1].")
# Lifetime of an access token from the Org Authorization Server, in seconds: Okta
# fixes it at one hour (it cannot be changed for the Org AS). After a revoke, an
# access token issued without a refresh token can carry the scope this long.
OKTA_ACCESS_TOKEN_LIFETIME = env_int("OKTA_ACCESS_TOKEN_LIFETIME", 3600)

# Fernet key (urlsafe base64 of 32 bytes) for tokens at rest.
TOKEN_ENCRYPTION_KEY = env("TOKEN_ENCRYPTION_KEY", _dev(DEMO_TOKEN_ENCRYPTION_KEY))
if PRODUCTION:
    from cryptography.fernet import Fernet

    try:
        for _key in TOKEN_ENCRYPTION_KEY.split(","):
            Fernet(_key.strip())
    except ValueError:
        raise ImproperlyConfigured(
            "TOKEN_ENCRYPTION_KEY must be one or more comma-separated Fernet keys "
            "(urlsafe base64 of 32 bytes)."
        ) from None
    if DEMO_TOKEN_ENCRYPTION_KEY in TOKEN_ENCRYPTION_KEY:
        raise ImproperlyConfigured("TOKEN_ENCRYPTION_KEY holds the demo value.")
AUDIT_HMAC_KEY = env("AUDIT_HMAC_KEY", _dev(DEMO_AUDIT_HMAC_KEY))
# Optional file that every signed audit checkpoint line is appended to (besides the
# log): a copy outside the database for `verify_audit` (catches a wiped audit table).
AUDIT_CHECKPOINT_FILE = env("AUDIT_CHECKPOINT_FILE", "")
# Who is e-mailed (Django's mail backend) when the audit trail fails verification.
ALERT_EMAILS = [a.strip() for a in env("ALERT_EMAILS", "").split(",") if a.strip()]
# Outgoing mail (alerts): SMTP from the environment; without EMAIL_HOST the mail is
# printed to the worker's log (Django's console backend), in development and in a
# production that has not set up mail yet.
EMAIL_HOST = env("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "grantsconsole@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Alert delivery (governance): each webhook gets this many seconds to connect and
# to answer; a failed delivery is retried with exponential backoff from
# ALERT_RETRY_BACKOFF seconds (capped at ALERT_RETRY_BACKOFF_MAX) until
# ALERT_DELIVERY_ATTEMPTS attempts were made.
ALERT_WEBHOOK_TIMEOUT = env_int("ALERT_WEBHOOK_TIMEOUT", 5)
ALERT_DELIVERY_ATTEMPTS = env_int("ALERT_DELIVERY_ATTEMPTS", 6)
ALERT_RETRY_BACKOFF = env_int("ALERT_RETRY_BACKOFF", 10)
ALERT_RETRY_BACKOFF_MAX = env_int("ALERT_RETRY_BACKOFF_MAX", 600)
# Webhook URLs must be https; plain http only in development (the demo's local
# receiver, the simulator's /__sim__/webhooks). Production refuses it.
ALERT_WEBHOOK_ALLOW_HTTP = env_bool("ALERT_WEBHOOK_ALLOW_HTTP", not PRODUCTION)
if PRODUCTION and ALERT_WEBHOOK_ALLOW_HTTP:
    raise ImproperlyConfigured(
        "ALERT_WEBHOOK_ALLOW_HTTP must be false in production: alerts and their "
        "signatures would cross the network in clear text."
    )
# Webhooks to loopback, private, link-local or reserved addresses (checked when a
# destination is saved and again before each delivery): allowed in development
# (the simulator's receiver is on 127.0.0.1), refused in production, where they
# would let the console probe its own network.
ALERT_WEBHOOK_ALLOW_PRIVATE = env_bool("ALERT_WEBHOOK_ALLOW_PRIVATE", not PRODUCTION)
# The signing secret of the demo's webhook destination and of the simulator's
# local receiver (public: development only).
DEMO_ALERT_WEBHOOK_SECRET = "demo-alert-webhook-secret"

# --- Production refuses the demo secrets -------------------------------------------
# The demo org's secrets are public (README, the simulator's seed); a console running
# with one of them would sign audit checkpoints or act in Okta with a known key.
AUDIT_HMAC_MIN_BYTES = 32


def private_key_is_demo(text: str) -> bool:
    """True when ``text`` is the demo worker's private key in any encoding: PEM
    (PKCS#1 or PKCS#8), DER or PEM in base64, or a JWK. Keys are compared by their
    public half (SubjectPublicKeyInfo bytes), so re-encoding the demo key does not
    hide it. Text that is none of these is not the demo key (False), and so is
    everything when the demo key file is not deployed."""
    import base64
    import binascii

    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
    from jwt.exceptions import InvalidKeyError

    def load(raw: bytes) -> Any:
        for loader in (
            serialization.load_pem_private_key,
            serialization.load_der_private_key,
        ):
            try:
                return loader(raw, password=None)
            except (ValueError, TypeError):
                continue
        return None

    def spki(key: Any) -> bytes:
        public = key.public_key() if hasattr(key, "public_key") else key
        return public.public_bytes(
            serialization.Encoding.DER,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )

    if not DEMO_WORKER_KEY_FILE.exists():
        return False
    text = text.strip()
    key = load(text.encode())
    if key is None and text.startswith("{"):
        for algorithm in (RSAAlgorithm, ECAlgorithm):
            try:
                key = algorithm.from_jwk(text)
                break
            except (InvalidKeyError, ValueError, KeyError, TypeError):
                continue
    if key is None:
        try:
            key = load(base64.b64decode("".join(text.split()), validate=True))
        except (binascii.Error, ValueError):
            key = None
    return key is not None and spki(key) == spki(
        load(DEMO_WORKER_KEY_FILE.read_bytes())
    )


if PRODUCTION:
    if AUDIT_HMAC_KEY.strip() == DEMO_AUDIT_HMAC_KEY:
        raise ImproperlyConfigured(
            "AUDIT_HMAC_KEY holds the demo org's value; production refuses it."
        )
    if len(AUDIT_HMAC_KEY.encode("utf-8")) < AUDIT_HMAC_MIN_BYTES:
        raise ImproperlyConfigured(
            f"AUDIT_HMAC_KEY must be a random value of at least "
            f"{AUDIT_HMAC_MIN_BYTES} bytes in production."
        )
    if OKTA_WORKER_PRIVATE_KEY and private_key_is_demo(OKTA_WORKER_PRIVATE_KEY):
        raise ImproperlyConfigured(
            "OKTA_WORKER_PRIVATE_KEY is the demo org's key (in some encoding); "
            "production refuses it."
        )

# --- Django -----------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "grantsconsole.ops",
    "grantsconsole.grants",
    "grantsconsole.usage",
    "grantsconsole.governance",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "grantsconsole.accounts",
    "grantsconsole.console",
]

# The Okta org simulator (its `oktasim` command) is for development and tests only:
# a production console never serves or starts a fake Okta org.
if not PRODUCTION:
    INSTALLED_APPS.insert(
        INSTALLED_APPS.index("grantsconsole.grants"), "grantsconsole.oktasim"
    )

MIDDLEWARE = [
    "grantsconsole.ops.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "grantsconsole.accounts.ratelimit.AnonymousRateLimitMiddleware",
    "grantsconsole.accounts.middleware.NoStoreMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "grantsconsole.accounts.middleware.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "grantsconsole.urls"
WSGI_APPLICATION = "grantsconsole.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "grantsconsole.accounts.context_processors.access",
            ],
        },
    },
]

import dj_database_url  # noqa: E402

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", _dev(f"sqlite:///{BASE_DIR / 'db.sqlite3'}")),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE avoids
    # "database is locked" upgrades inside transactions.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MAX_AGE = 31536000 if PRODUCTION else 0
# Development serves static files from the source folders, collected or not (with
# DEBUG off, WhiteNoise would otherwise serve only STATIC_ROOT).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Celery -----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", "" if not PRODUCTION else None)
CELERY_BROKER_URL = REDIS_URL or "filesystem://"
# --- Redis TLS ----------------------------------------------------------------------
# A rediss:// URL verifies the server's certificate (broker and rate-limit pacer).
# REDIS_TLS_VERIFY=false is the opt-out for Redis add-ons whose certificate is
# self-signed (Heroku Key-Value Store): the link stays encrypted, unauthenticated.
REDIS_TLS_VERIFY = env_bool("REDIS_TLS_VERIFY", True)
# Seconds before Redis redelivers an unacknowledged task (a killed worker's). Every
# task is far shorter (full sync steps take seconds); the failover test lowers it.
CELERY_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
# Each worker looks for such overdue tasks every 10 s (kombu's default throttle
# would make that every 100 s).
_REDIS_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": 10,
    "unacked_restore_throttle": 1,
}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _q = Path(env("CELERY_FS_DIR", str(BASE_DIR / ".celery")))
    for _d in ("data", "processed", "control"):
        (_q / _d).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_q / "data"),
        "data_folder_out": str(_q / "data"),
        "processed_folder": str(_q / "processed"),
        "control_folder": str(_q / "control"),
    }
elif CELERY_BROKER_URL.startswith("rediss://"):
    import ssl

    CELERY_BROKER_USE_SSL = {
        "ssl_cert_reqs": ssl.CERT_REQUIRED if REDIS_TLS_VERIFY else ssl.CERT_NONE
    }
    CELERY_BROKER_TRANSPORT_OPTIONS = _REDIS_TRANSPORT_OPTIONS
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = _REDIS_TRANSPORT_OPTIONS
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# Heroku sends SIGTERM and kills after 30 s; with REMAP_SIGTERM=SIGQUIT (Procfile) the
# worker gets a soft shutdown of 20 s to finish its chunk, then re-queues (acks_late).
CELERY_WORKER_SOFT_SHUTDOWN_TIMEOUT = 20
CELERY_WORKER_ENABLE_SOFT_SHUTDOWN_ON_IDLE = False  # an idle worker exits at once
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# Schedules, in seconds (incremental, full) and a crontab hour (daily audit, UTC).
SYNC_INCREMENTAL_EVERY = env_int("SYNC_INCREMENTAL_EVERY", 60)
SYNC_FULL_EVERY = env_int("SYNC_FULL_EVERY", 6 * 3600)
AUDIT_REPORT_HOUR = env_int("AUDIT_REPORT_HOUR", 5)
# Attestation campaigns (governance): a new one every ATTESTATION_EVERY_DAYS
# (90, quarterly; 0 = only when a Super Admin starts one), answered within
# ATTESTATION_DUE_DAYS; owners with open items get at most one reminder a day.
ATTESTATION_EVERY_DAYS = env_int("ATTESTATION_EVERY_DAYS", 90)
ATTESTATION_DUE_DAYS = env_int("ATTESTATION_DUE_DAYS", 14)

# --- Governance: two-person approval and expiring grants ----------------------------
# A grant of a scope rated at or above APPROVAL_MIN_RISK (the scope catalog's words:
# low, medium, high, critical; "off": no gate) needs a request that another Super
# Admin approves. Pending requests expire after APPROVAL_REQUEST_DAYS days.
APPROVAL_MIN_RISK = env("APPROVAL_MIN_RISK", "critical")
if APPROVAL_MIN_RISK not in ("off", "low", "medium", "high", "critical"):
    raise ImproperlyConfigured(
        "APPROVAL_MIN_RISK must be low, medium, high, critical or off, "
        f"not {APPROVAL_MIN_RISK!r}."
    )
APPROVAL_REQUEST_DAYS = env_int("APPROVAL_REQUEST_DAYS", 7)
# Grants past their end time are looked for every GRANT_EXPIRY_EVERY seconds; an
# alert goes out GRANT_EXPIRY_WARN_DAYS days before a grant's end.
GRANT_EXPIRY_EVERY = env_int("GRANT_EXPIRY_EVERY", 60)
GRANT_EXPIRY_WARN_DAYS = env_int("GRANT_EXPIRY_WARN_DAYS", 3)
# The optional enforcer: a separate Okta service app (okta.appGrants.manage and the
# Super Admin role) that revokes grants at their end time, off unless its client id
# is set. Only the id lives in settings: its key, ENFORCER_PRIVATE_KEY, is read from
# the environment by okta_clients.enforcer_client(), in a Celery worker only.
DEMO_ENFORCER_CLIENT_ID = "0oa1enforcerDEMO00x7"
ENFORCER_CLIENT_ID = env("ENFORCER_CLIENT_ID", "")
ENFORCER_KEY_ID = env("ENFORCER_KEY_ID", "")
if PRODUCTION and ENFORCER_CLIENT_ID.strip() == DEMO_ENFORCER_CLIENT_ID:
    raise ImproperlyConfigured(
        "ENFORCER_CLIENT_ID holds the demo org's value; production refuses it."
    )

# --- Usage evidence (grantsconsole.usage.ingest) ----------------------------------
# Share of the /api/v1/logs rate-limit bucket the usage ingestion may spend per
# window, on top of the worker's own polls (OKTA_RATE_LIMIT_SHARE); 0.25 leaves
# the incremental sync and other tools most of the bucket.
USAGE_LOGS_BUCKET_SHARE = float(env("USAGE_LOGS_BUCKET_SHARE", "0.25"))
if not 0 < USAGE_LOGS_BUCKET_SHARE <= 1:
    raise ImproperlyConfigured("USAGE_LOGS_BUCKET_SHARE must be in (0, 1].")
USAGE_INGEST_EVERY = env_int("USAGE_INGEST_EVERY", 60)
# The first poll reads back this many days (at most Okta's 90: older events are
# gone), so a 90-day verdict is possible at once rather than after 90 days.
USAGE_FIRST_LOOKBACK_DAYS = min(90, max(0, env_int("USAGE_FIRST_LOOKBACK_DAYS", 90)))
# Raw events must outlive Okta's 90 days: a page read again (after a crash or a
# refused cursor) is recognised by its events' uuids, never counted twice.
USAGE_RAW_RETENTION_DAYS = max(91, env_int("USAGE_RAW_RETENTION_DAYS", 120))
USAGE_ROLLUP_RETENTION_DAYS = max(366, env_int("USAGE_ROLLUP_RETENTION_DAYS", 1095))

# --- Governance: policy as code ----------------------------------------------------
# The policy YAML file, for teams that keep it in git: read again at each
# evaluation, a new version when its text changes. "off" = no file (the policy
# is edited in the console only). Development runs the demo policy on the demo
# org; production has no default and refuses the demo policy (it allowlists
# the demo org's apps).
DEMO_POLICY_FILE = BASE_DIR / "policy" / "demo.yaml"
GOVERNANCE_POLICY_FILE = env(
    "GOVERNANCE_POLICY_FILE", "off" if PRODUCTION else str(DEMO_POLICY_FILE)
)
if GOVERNANCE_POLICY_FILE == "off":
    GOVERNANCE_POLICY_FILE = ""
if PRODUCTION and Path(GOVERNANCE_POLICY_FILE).resolve() == DEMO_POLICY_FILE:
    raise ImproperlyConfigured(
        "GOVERNANCE_POLICY_FILE is the demo policy; production refuses it."
    )
# The longest a Super Admin may accept a policy finding's risk for, in days.
GOVERNANCE_ACCEPT_MAX_DAYS = env_int("GOVERNANCE_ACCEPT_MAX_DAYS", 365)
# Sections the audit report gains from the apps above grants (the arrows point
# from them to grants, so grants names them here): section -> a callable's
# dotted path, called with no argument when a report is built, returning the
# section's data (JSON-serializable).
AUDIT_REPORT_SECTIONS = {
    "least_privilege": "grantsconsole.usage.plans.report_section",
}

# --- Logging ----------------------------------------------------------------------
# JSON lines on stdout in production (LOG_FORMAT=json), plain text in development;
# both carry the request id and mask credentials (grantsconsole.ops.logging).
LOG_LEVEL = env("LOG_LEVEL", "INFO")
LOG_FORMAT = env("LOG_FORMAT", "json" if PRODUCTION else "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "grantsconsole.ops.request_id.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "grantsconsole.ops.logging.RedactingJsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            "rename_fields": {"asctime": "time", "levelname": "level"},
        },
        "plain": {
            "()": "grantsconsole.ops.logging.RedactingFormatter",
            "format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Its DEBUG lines quote request paths, and a Slack webhook's path is
        # its secret (alert delivery).
        "urllib3.connectionpool": {"level": "INFO"},
    },
}

# --- Security ---------------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF, OKTA_ORG_URL],
}
X_FRAME_OPTIONS = "DENY"
# A refused CSRF check is a refused write: it leaves an audit row.
CSRF_FAILURE_VIEW = "grantsconsole.accounts.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 30 * 60  # idle timeout, renewed when LAST_SEEN is (once a minute)
SESSION_SAVE_EVERY_REQUEST = False  # accounts.middleware saves it once a minute
SESSION_ABSOLUTE_SECONDS = 12 * 3600
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# --- Sign-in: allauth OIDC against the Org Authorization Server (grantsconsole.accounts)
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
OKTA_CONSOLE_SCOPES = [
    "openid",
    "profile",
    "email",
    "offline_access",
    "okta.apps.read",
    "okta.appGrants.read",
    "okta.appGrants.manage",
    "okta.apps.manage",
    "okta.roles.read",
    "okta.oauthIntegrations.manage",
]
# Auditors read the audit, reports, exports and Console health, nothing else: Okta
# admins holding one of these roles, or members of this Okta group (known from the
# ID token's `groups` claim, which the console app must be set up to send).
ACCOUNTS_AUDITOR_ROLES = [
    r.strip()
    for r in env("ACCOUNTS_AUDITOR_ROLES", "READ_ONLY_ADMIN").split(",")
    if r.strip()
]
# (With a group set, the sign-in also asks for the `groups` scope: accounts.oidc.)
ACCOUNTS_AUDITOR_GROUP = env("ACCOUNTS_AUDITOR_GROUP", "")
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": "okta",
                "name": "Okta",
                "client_id": OKTA_CONSOLE_CLIENT_ID,
                "secret": OKTA_CONSOLE_CLIENT_SECRET,
                "settings": {
                    # read at request time from OKTA_ORG_URL by accounts.oidc
                    "server_url": OKTA_ORG_URL,
                    "scope": OKTA_CONSOLE_SCOPES,
                    "oauth_pkce_enabled": True,
                    "token_auth_method": "client_secret_basic",
                    "fetch_userinfo": True,
                },
            }
        ],
    }
}
SOCIALACCOUNT_ADAPTER = "grantsconsole.accounts.adapter.SocialAccountAdapter"
ACCOUNT_ADAPTER = "grantsconsole.accounts.adapter.AccountAdapter"
SOCIALACCOUNT_ONLY = True
SOCIALACCOUNT_STORE_TOKENS = False  # accounts.custody keeps them, encrypted
SOCIALACCOUNT_LOGIN_ON_GET = False  # the sign-in button is a POST
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if PRODUCTION else "http"
ALLAUTH_TRUSTED_PROXY_COUNT = 1 if PRODUCTION else 0
ACCOUNTS_ROLE_RECHECK_SECONDS = env_int("ACCOUNTS_ROLE_RECHECK_SECONDS", 300)
ACCOUNTS_STEP_UP_MAX_AGE = env_int("ACCOUNTS_STEP_UP_MAX_AGE", 15 * 60)
# e.g. "urn:okta:loa:2fa:any": step-up also demands MFA (amr has "mfa"); empty = off
ACCOUNTS_STEP_UP_ACR_VALUES = env("ACCOUNTS_STEP_UP_ACR_VALUES", "")
OKTA_POST_LOGOUT_REDIRECT_URI = env("OKTA_POST_LOGOUT_REDIRECT_URI", "")

# --- Anonymous traffic (grantsconsole.accounts.ratelimit, .security_events) -------
# The sign-in callback and writes without a session, per client address and minute;
# past this, 429. Refusals without a signed-in admin are counted in SecurityEvent
# rows (not the audit chain), kept this many days.
ANONYMOUS_REQUESTS_PER_MINUTE = env_int("ANONYMOUS_REQUESTS_PER_MINUTE", 30)
SECURITY_EVENT_RETENTION_DAYS = env_int("SECURITY_EVENT_RETENTION_DAYS", 30)
# The rate limit's counters must be shared by every web process: Redis when there
# is one, else each process's memory (one process in development).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Heroku Key-Value Store presents a self-signed certificate.
            "OPTIONS": {"ssl_cert_reqs": "none"}
            if REDIS_URL.startswith("rediss://")
            else {},
        }
    }
