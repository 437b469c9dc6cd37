"""The SSO benchmark's identity provider: the core's fake Entra ID (pyop) with one user.

Served by gunicorn with ONE worker process (threads for requests side by side): the
provider keeps its codes and access tokens in memory, so a code must come back to
the process that issued it. ``GET /_bench/hits`` answers how often each endpoint
was asked, which shows the app asked discovery and keys once per worker, not once
per sign-in.
"""
from __future__ import annotations

import json

from mypages_devtools.fakes.oidc_provider import FakeOidcProvider, azure_user

TENANT_ID = "4f2b1a5e-3c1d-4e8f-9a0b-6c7d8e9f0a1b"
CLIENT_ID = "b3e5c7d9-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
CLIENT_SECRET = "bench-client-secret"
OBJECT_ID = "7d0c1e2f-3a4b-4c5d-8e6f-708192a3b4c5"
HITS_PATH = "/_bench/hits"


def user(email: str) -> dict:
    """The seeded admin as Entra ID knows them: e-mail vouched for (``xms_edov``), no groups."""
    return azure_user(TENANT_ID, OBJECT_ID, email, "Bench Admin", xms_edov=True)


def make_app(base_url: str, redirect_uri: str, email: str):
    fake = FakeOidcProvider(base_url, style="azure", tenant_id=TENANT_ID, client_id=CLIENT_ID,
                            client_secret=CLIENT_SECRET, redirect_uris=(redirect_uri,),
                            token_endpoint_auth_method="client_secret_post", users=[user(email)])

    def app(environ, start_response):
        if environ.get("PATH_INFO") == HITS_PATH:
            body = json.dumps(dict(fake.hits)).encode()
            start_response("200 OK", [("Content-Type", "application/json"),
                                      ("Content-Length", str(len(body)))])
            return [body]
        return fake(environ, start_response)

    return app
