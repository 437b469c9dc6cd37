"""Talking to a served mypages over HTTP: the login form, signing in, checking pages."""
from __future__ import annotations

import re

import httpx

from bench import seed

SESSION_COOKIE = "mypages_session"
CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')
CARD_PATTERN = re.compile(r'<section class="card">')


def login_form_token(client: httpx.Client) -> str:
    """GET /login; the form's CSRF token (the client keeps the cookie session holding it)."""
    form = client.get("/login")
    form.raise_for_status()
    return CSRF_PATTERN.search(form.text).group(1)


def login_body(seeded: seed.Seeded, token: str) -> dict[str, str]:
    """The login form as the browser posts it."""
    return {"email": seeded.email, "password": seeded.password, "csrf_token": token, "next": ""}


def sign_in(base_url: str, seeded: seed.Seeded) -> str:
    """A real sign-in through the login form; returns the session cookie's value."""
    with httpx.Client(base_url=base_url, follow_redirects=False, timeout=30) as client:
        token = login_form_token(client)
        done = client.post("/login", data=login_body(seeded, token))
        if done.status_code != 303:
            raise RuntimeError(f"sign-in at {base_url} answered {done.status_code}, not 303")
        cookie = client.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise RuntimeError(f"sign-in at {base_url} set no {SESSION_COOKIE} cookie")
    return cookie


def check_dashboard(base_url: str, path: str, cookie: str, seeded: seed.Seeded) -> None:
    """The page must be the dashboard with its five modules' cards (and the core's own, such
    as an admin's next steps), not a redirect to /login."""
    page = httpx.get(base_url + path, cookies={SESSION_COOKIE: cookie}, timeout=30)
    if page.status_code != 200:
        raise RuntimeError(f"{path} answered {page.status_code} "
                           f"({page.headers.get('location', '')}), not the dashboard")
    cards = len(CARD_PATTERN.findall(page.text))
    missing = [key for key in seeded.module_keys if f"/{key}\"" not in page.text]
    if cards < len(seeded.module_keys) or missing or seed.COMPANY_NAME not in page.text:
        raise RuntimeError(f"{path} shows {cards} cards (missing {missing}), "
                           f"not the dashboard of {seed.COMPANY_NAME} with its five modules' cards")


def check_plain(base_url: str, path: str, expected: str) -> None:
    page = httpx.get(base_url + path, timeout=30)
    if page.status_code != 200 or expected not in page.text:
        raise RuntimeError(f"{path} answered {page.status_code}: {page.text[:200]!r}")


def check_api_modules(base_url: str, token: str, seeded: seed.Seeded) -> None:
    """``GET /api/v1/modules`` with the token must list the company's five active modules."""
    answer = httpx.get(base_url + "/api/v1/modules", timeout=30,
                       headers={"Authorization": f"Bearer {token}"})
    if answer.status_code != 200:
        raise RuntimeError(f"/api/v1/modules answered {answer.status_code}: {answer.text[:200]!r}")
    active = {item["key"] for item in answer.json()["items"] if item["state"] == "active"}
    if active != set(seeded.module_keys):
        raise RuntimeError(f"/api/v1/modules lists {sorted(active)} as active, "
                           f"not {sorted(seeded.module_keys)}")
