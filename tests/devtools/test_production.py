"""A production installation leaves the development tools out: production refuses to start
with development features on or with this development-only plugin enabled, and building the
production app imports none of the development code or its libraries."""
from __future__ import annotations

import json
import secrets
import subprocess
import sys
import textwrap

import pytest
from cryptography.fernet import Fernet

from mypages import application, main
from mypages.settings import UnsafeConfiguration

#: what a production installation leaves out, by the module names it would import
DEVELOPMENT_ONLY = ("mypages.testing", "mypages_devtools", "pyop", "saml2", "dnslib")


@pytest.fixture
def production_settings(tmp_path) -> dict:
    return {
        "sqlalchemy.url": f"sqlite:///{tmp_path}/mypages.sqlite",
        "mypages.environment": "production",
        "mypages.secret": secrets.token_urlsafe(48),
        "mypages.encryption_keys": Fernet.generate_key().decode(),
        "mypages.blind_index_key": Fernet.generate_key().decode(),
        "mypages.base_url": "https://mypages.example.se",
        "mypages.smtp.host": "smtp.example.se",
        "mypages.dev_features": "false",
        "mypages.session.secure": "true",
        "mypages.jobs.in_process": "false",
        "pyramid.reload_templates": "false",
        "mypages.plugins.allow": "*",
        "mypages.plugins.deny": "devtools",
    }


def refusal(settings: dict) -> str:
    with pytest.raises(UnsafeConfiguration) as refused:
        main({}, **settings)
    return str(refused.value)


def test_production_refuses_development_features(production_settings):
    message = refusal({**production_settings, "mypages.dev_features": "true"})

    assert "mypages.dev_features must be false" in message


def test_production_refuses_the_development_plugin_enabled(production_settings):
    message = refusal({**production_settings, "mypages.plugins.deny": ""})

    assert message.startswith("Refusing to start in production")
    assert "plugin 'devtools' (mypages-devtools) is for development only" in message
    assert "add devtools to mypages.plugins.deny" in message


def test_production_starts_with_the_development_plugin_denied(production_settings):
    app = application(production_settings)  # on an empty database: pending migrations aside

    found = {info.name: info for info in app.registry["plugins.found"]}
    assert not found["devtools"].enabled and found["sso_azure"].enabled
    assert app.routes_mapper.get_route("dev_index") is None
    app.registry["db.engine"].dispose()


def test_the_production_app_imports_no_development_code(production_settings):
    """In a process of its own: the test run has imported all of it already."""
    script = textwrap.dedent(f"""
        import json, sys
        from mypages import application
        app = application(json.loads(sys.argv[1]))
        app.registry["db.engine"].dispose()
        loaded = [name for name in sys.modules
                  if any(name == top or name.startswith(top + ".") for top in {DEVELOPMENT_ONLY!r})]
        print(json.dumps(sorted(loaded)))
    """)
    done = subprocess.run([sys.executable, "-c", script, json.dumps(production_settings)],
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == []
