"""Security headers on every response (ASVS 3.4), HSTS only in production, and templates
that need no 'unsafe-inline': no inline script, event handler or style attribute."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

import mypages
from mypages.modules.models import ModuleActivation, ModuleState
from mypages.testing.plugin import csrf_token, sign_in
from tests.security.support import browser, fill, second_app

REFERRER_POLICIES = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


def directives(csp: str) -> dict[str, list[str]]:
    parsed = {}
    for directive in filter(None, (part.strip() for part in csp.split(";"))):
        name, *values = directive.split()
        parsed[name.lower()] = values
    return parsed


def assert_security_headers(response, where: str, production: bool = False) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    policy = directives(csp)
    assert policy, where
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, where
    assert policy.get("frame-ancestors") == ["'none'"], where
    for kind in ("script-src", "style-src"):
        sources = policy.get(kind, policy.get("default-src"))
        assert sources and set(sources) <= {"'self'", "'none'"}, (where, kind, sources)
    assert policy.get("object-src") == ["'none'"] and policy.get("base-uri") in (["'none'"], ["'self'"])
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") in REFERRER_POLICIES, where
    hsts = headers.get("Strict-Transport-Security")
    if production:
        assert hsts and int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000, where
        assert "includesubdomains" in hsts.lower(), where
    else:
        assert hsts is None, where  # never pinned to HTTPS while developing on http


def get_views(app) -> list[tuple[str, str]]:
    introspector = app.registry.introspector
    found = set()
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        methods = intr["request_methods"]
        if intr["route_name"] and (methods is None or "GET" in methods):
            route = introspector.get("routes", intr["route_name"])
            if route["request_methods"] is None or "GET" in route["request_methods"]:
                found.add((intr["route_name"], route["pattern"]))
    return sorted(found)


def test_every_page_carries_the_headers(app, factory, dbsession):
    company = factory.company()
    admin = factory.user(company=company, role="admin", is_operator=True)
    member = factory.user(company=company)
    for key in app.registry["modules.catalogue"].modules:
        dbsession.add(ModuleActivation(company_id=company.id, module_key=key, state=ModuleState.active))
    dbsession.commit()
    values = {"company_id": company.id, "user_id": member.id, "module_key": "notes",
              "action": "remove", "token": "no-such-token", "subpath": "mypages.css",
              "connection_id": 1, "rest": "modules", "token_id": 1}
    anonymous, signed_in = browser(app), browser(app)
    sign_in(signed_in, admin.email)
    seen = set()
    for name, pattern in get_views(app):
        path = fill(pattern, values)
        for who, visitor in (("anonymous", anonymous), ("admin", signed_in)):
            response = visitor.get(path, status="*")
            seen.add(response.status_int)
            assert_security_headers(response, f"{who} GET {path}")
    # and the answers that are not pages: errors, refusals, redirects
    for response in (
            anonymous.get("/no/such/page", status=404),
            anonymous.post("/login", {"email": "x@example.se"}, status=400),
            sign_in(browser(app), admin.email),
            sign_in(browser(app), admin.email, "wrong password", status=400),
            signed_in.post("/logout", {"csrf_token": csrf_token(signed_in, "/account")}, status=303)):
        seen.add(response.status_int)
        assert_security_headers(response, f"{response.request.method} {response.request.path}")
    assert {200, 303, 400, 404} <= seen


def test_member_refusal_and_company_pages_carry_the_headers(app, factory):
    company = factory.company()
    member = factory.user(company=company)
    visitor = browser(app)
    sign_in(visitor, member.email)
    assert_security_headers(visitor.get(f"/c/{company.id}/settings/people", status=403), "403")
    page = visitor.get(f"/c/{company.id}/", status=200)
    assert_security_headers(page, "dashboard")
    assert "no-store" in page.headers.get("Cache-Control", "")  # signed-in pages are not cached


@pytest.fixture
def production_app(app, mypages_settings, monkeypatch):
    monkeypatch.setenv("MYPAGES_SECRET", "production-" + Fernet.generate_key().decode())
    monkeypatch.setenv("MYPAGES_ENCRYPTION_KEYS", Fernet.generate_key().decode())
    production = {"mypages.environment": "production", "mypages.secret": "env:MYPAGES_SECRET",
                  "mypages.encryption_keys": "env:MYPAGES_ENCRYPTION_KEYS",
                  "mypages.blind_index_key": Fernet.generate_key().decode(),
                  "mypages.session.secure": "true", "mypages.dev_features": "false",
                  "mypages.base_url": "https://mypages.example", "mypages.smtp.host": "127.0.0.1",
                  "mypages.outbound.allow_private": "false",
                  # a production installation leaves the development tools out
                  "mypages.plugins.deny": "devtools"}
    # production refuses the suite's cheap password hashing: it keeps the default cost
    settings = {key: value for key, value in mypages_settings.items()
                if not key.startswith("mypages.passwords.")}
    with second_app(settings, **production) as built:
        yield built


def test_hsts_in_production(production_app, factory):
    company = factory.company()
    visitor = browser(production_app, **{"wsgi.url_scheme": "https"})
    for response in (visitor.get("/login", status=200), visitor.get("/no/such/page", status=404),
                     visitor.get(f"/c/{company.id}/", status=303),
                     visitor.get("/static/mypages.css", status=200)):
        assert_security_headers(response, response.request.path, production=True)


# -- templates -------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
TAG = re.compile(r"<[a-zA-Z][^<>]*>", re.DOTALL)
HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
JAVASCRIPT_URL = re.compile(r"(href|src|action)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def template_files(app) -> list[Path]:
    packages = [Path(mypages.__file__).parent]
    for info in app.registry["plugins.found"]:
        if info.enabled and info.module is not None:
            packages.append(Path(info.module.__file__).parent)
    files = []
    for package in packages:
        for suffix in ("*.jinja2", "*.pt", "*.mako", "*.html"):
            files.extend(path for path in package.rglob(suffix) if ".venv" not in path.parts)
    return files


def test_no_template_needs_unsafe_inline(app):
    files = template_files(app)
    assert len([f for f in files if "mypages_example_notes" in str(f)]) >= 1  # plugins too
    assert len(files) >= 20
    problems = []
    for path in files:
        source = path.read_text()
        for pattern, what in ((INLINE_SCRIPT, "inline <script>"), (STYLE_ELEMENT, "<style> element"),
                              (JAVASCRIPT_URL, "javascript: URL")):
            problems += [f"{path.name}: {what}: {m.group(0)}" for m in pattern.finditer(source)]
        for tag in TAG.finditer(source):
            for pattern, what in ((HANDLER, "event handler attribute"), (STYLE_ATTRIBUTE, "style=")):
                if pattern.search(tag.group(0)):
                    problems.append(f"{path.name}: {what}: {tag.group(0)}")
    assert problems == []


def test_the_template_checks_catch_what_they_look_for():
    samples = {'<script>alert(1)</script>': INLINE_SCRIPT, "<style>p{}</style>": STYLE_ELEMENT,
               '<a href="javascript:alert(1)">': JAVASCRIPT_URL}
    for sample, pattern in samples.items():
        assert pattern.search(sample), sample
    assert not INLINE_SCRIPT.search('<script src="/static/app.js"></script>')
    assert HANDLER.search('<button onclick="x()">') and STYLE_ATTRIBUTE.search('<p style="color:red">')
    assert not HANDLER.search('<input name="one" data-x="y">')
