"""Production settings: `check --deploy` is clean, and bad config stops start-up."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "GRANTSCONSOLE_ENV": "production",
    "SECRET_KEY": "p" * 20 + "r0d-s3cret-key-with-enough-entropy-for-django-checks",
    "ALLOWED_HOSTS": "console.example.com",
    "DATABASE_URL": "sqlite:////tmp/grantsconsole-prod-check.sqlite3",
    "REDIS_URL": "rediss://:pw@redis.example.com:6380",
    "OKTA_ORG_URL": "https://example.okta.com",
    "OKTA_CONSOLE_CLIENT_ID": "0oa1realconsole0000x7",
    "OKTA_CONSOLE_CLIENT_SECRET": "a-real-console-secret",
    "OKTA_SSWS_TOKEN": "00realSSWStoken000000000000000000000000000",
    "TOKEN_ENCRYPTION_KEY": "cHJvZHVjdGlvbi10b2tlbi1rZXktMzItYnl0ZXMhISE=",
    "AUDIT_HMAC_KEY": "a-random-audit-checkpoint-secret",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("OKTA_", "DJANGO_"))
    }
    clean.pop("DATABASE_URL", None)
    clean.pop("REDIS_URL", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "variable",
    [
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "DATABASE_URL",
        "REDIS_URL",
        "OKTA_ORG_URL",
        "OKTA_CONSOLE_CLIENT_ID",
        "OKTA_CONSOLE_CLIENT_SECRET",
        "TOKEN_ENCRYPTION_KEY",
    ],
)
def test_missing_production_setting_stops_start_up_naming_it(variable):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != variable}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (
            "SECRET_KEY",
            "dev-only-secret-key-for-the-demo-org-never-use-in-production-0",
        ),
        ("OKTA_CONSOLE_CLIENT_ID", "0oa1consoleDEMO000x7"),
        ("OKTA_SSWS_TOKEN", "00demoSuperAdminSSWStoken0000000000000000"),
        ("OKTA_ORG_URL", "http://127.0.0.1:8001"),
        ("ALLOWED_HOSTS", "*"),
        ("TOKEN_ENCRYPTION_KEY", "not-a-fernet-key"),
        ("DEBUG", "true"),
        ("ENFORCER_CLIENT_ID", "0oa1enforcerDEMO00x7"),
        ("APPROVAL_MIN_RISK", "everything"),
    ],
)
def test_demo_or_insecure_values_are_refused_in_production(variable, value):
    result = _manage("check", env={**PRODUCTION_ENV, variable: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert variable in result.stderr


def test_worker_credentials_are_required_in_production():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "OKTA_SSWS_TOKEN"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "OKTA_WORKER_PRIVATE_KEY" in result.stderr


def test_development_defaults_run_a_fresh_checkout():
    result = _manage("check", env={})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("https://example.okta.com/oauth2/default", "names an authorization server"),
        (
            "https://example.okta.com/oauth2/aus1a2b3c4d5e6f7g8h9",
            "names an authorization server",
        ),
        ("https://example-admin.okta.com", "Admin Console's host"),
        ("https://example.okta.com/app/UserHome", "no path"),
    ],
)
def test_an_org_url_that_is_not_the_org_authorization_server_is_refused(value, why):
    """Only the Org Authorization Server mints okta.* scopes: production refuses a
    custom authorization server or the -admin host, and shows the right form."""
    result = _manage("check", env={**PRODUCTION_ENV, "OKTA_ORG_URL": value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert why in result.stderr
    assert "https://example.okta.com." in result.stderr  # the right form


def test_explicit_ssws_token_is_the_development_worker_credential():
    """In development the demo worker app is only the default when no worker
    credential is given: OKTA_SSWS_TOKEN set alone is what the worker uses."""
    probe = (
        "from grantsconsole.okta_clients import worker_auth_kind; "
        "print(worker_auth_kind())"
    )
    token = {"OKTA_SSWS_TOKEN": "00developerSSWStoken000000000000000000000000"}
    given = _manage("shell", "--no-imports", "-c", probe, env=token)
    assert given.returncode == 0, given.stderr
    assert given.stdout.strip() == "ssws"
    default = _manage("shell", "--no-imports", "-c", probe, env={})
    assert default.stdout.strip() == "service_app"  # the demo worker app


def _demo_key_encodings() -> dict[str, str]:
    """The demo worker key as an operator might paste it, in every encoding."""
    import base64

    from cryptography.hazmat.primitives import serialization
    from jwt.algorithms import RSAAlgorithm

    pem = (ROOT / "grantsconsole/oktasim/seed/worker-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    none = serialization.NoEncryption()
    pkcs1 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, none
    ).decode()
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none
    ).decode()
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, none
    )
    return {
        "pem-pkcs8": pkcs8,
        "pem-pkcs1": pkcs1,
        "pem-escaped-newlines": pkcs1.strip().replace("\n", "\\n"),
        "pem-crlf-indented": "  " + pkcs8.replace("\n", "\r\n"),
        "der-base64": base64.b64encode(der).decode(),
        "der-base64-wrapped": base64.encodebytes(der).decode(),
        "pem-base64": base64.b64encode(pkcs8.encode()).decode(),
        "jwk": RSAAlgorithm.to_jwk(key),
    }


@pytest.mark.parametrize("encoding", sorted(_demo_key_encodings()))
def test_the_demo_worker_key_is_refused_in_any_encoding(encoding):
    """Keys are compared by their public half, so re-encoding the demo key does
    not get it past production."""
    key = _demo_key_encodings()[encoding]
    result = _manage(
        "check",
        env={
            **PRODUCTION_ENV,
            "OKTA_WORKER_CLIENT_ID": "0oa1realworker00000x7",
            "OKTA_WORKER_PRIVATE_KEY": key,
        },
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "OKTA_WORKER_PRIVATE_KEY is the demo org's key" in result.stderr


def test_a_worker_key_of_its_own_is_accepted_in_production():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    env = {
        **PRODUCTION_ENV,
        "OKTA_WORKER_CLIENT_ID": "0oa1realworker00000x7",
        "OKTA_WORKER_PRIVATE_KEY": pem.replace("\n", "\\n"),
    }
    result = _manage("check", env=env)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("dev-only-audit-checkpoint-key", "demo org's value"),
        ("dev-only-audit-checkpoint-key\n", "demo org's value"),
        ("short-but-not-the-demo-key", "at least 32 bytes"),
        ("x" * 31, "at least 32 bytes"),
    ],
)
def test_the_demo_or_a_short_audit_key_is_refused_in_production(value, why):
    result = _manage("check", env={**PRODUCTION_ENV, "AUDIT_HMAC_KEY": value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "AUDIT_HMAC_KEY" in result.stderr
    assert why in result.stderr


@pytest.mark.parametrize(
    "value",
    [
        "demo-console-secret-not-for-production-0000000000",
        "demo-console-secret-not-for-production-0000000000\n",
        " demo-console-secret-not-for-production-0000000000 ",
    ],
)
def test_the_demo_console_secret_is_refused_in_production(value):
    result = _manage(
        "check", env={**PRODUCTION_ENV, "OKTA_CONSOLE_CLIENT_SECRET": value}
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "OKTA_CONSOLE_CLIENT_SECRET holds the demo org's value" in result.stderr


def test_production_does_not_install_the_okta_simulator():
    probe = (
        "from django.apps import apps; "
        "print(apps.is_installed('grantsconsole.oktasim'))"
    )
    production = _manage("shell", "--no-imports", "-c", probe, env=PRODUCTION_ENV)
    assert production.returncode == 0, production.stderr
    assert production.stdout.strip() == "False"
    command = _manage("oktasim", "--help", env=PRODUCTION_ENV)
    assert command.returncode != 0
    assert "Unknown command: 'oktasim'" in command.stderr
    development = _manage("shell", "--no-imports", "-c", probe, env={})
    assert development.stdout.strip() == "True"


_BROKER_SSL_PROBE = (
    "import ssl; from grantsconsole import celery_app; "
    "print(celery_app.conf.broker_use_ssl['ssl_cert_reqs'] == ssl.CERT_REQUIRED)"
)


@pytest.mark.parametrize(
    ("verify", "required"), [(None, "True"), ("true", "True"), ("false", "False")]
)
def test_a_rediss_broker_verifies_certificates_unless_opted_out(verify, required):
    """rediss:// checks the server's certificate by default; REDIS_TLS_VERIFY=false
    is the documented opt-out for add-ons with self-signed certificates."""
    env = {**PRODUCTION_ENV}
    if verify is not None:
        env["REDIS_TLS_VERIFY"] = verify
    result = _manage("shell", "--no-imports", "-c", _BROKER_SSL_PROBE, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == required


def test_alert_mail_goes_over_smtp_when_a_host_is_given():
    probe = (
        "from django.conf import settings as s; "
        "print(s.EMAIL_BACKEND.rsplit('.', 2)[-2], s.EMAIL_HOST, s.EMAIL_PORT)"
    )
    smtp = _manage(
        "shell",
        "--no-imports",
        "-c",
        probe,
        env={**PRODUCTION_ENV, "EMAIL_HOST": "smtp.example.com", "EMAIL_PORT": "2525"},
    )
    assert smtp.returncode == 0, smtp.stderr
    assert smtp.stdout.split() == ["smtp", "smtp.example.com", "2525"]
    unset = _manage("shell", "--no-imports", "-c", probe, env=PRODUCTION_ENV)
    assert unset.stdout.split()[0] == "console"
