"""What the protocol code needs of the sign-in it serves, as plain values.

:mod:`~mypages.sso.oidc` and :mod:`~mypages.sso.saml` never see the request:
they take an :class:`Exchange` and, where the identity provider answered,
its parameters as a plain mapping. :func:`mypages.sso.flow.exchange` builds
the exchange from a request (the one place that reads it for them); the
command line, a job or a test builds one by hand.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from mypages.outbound import Outbound
from mypages.services import Clock


@dataclass(frozen=True)
class Exchange:
    """One sign-in's (or one metadata document's) dealings with an identity provider."""

    #: the session of the transaction the sign-in runs in
    dbsession: Session
    #: the application's outbound client: every request to the identity provider
    outbound: Outbound
    #: the application's clock (token lifetimes, replay records)
    clock: Clock
    #: OIDC: our redirect URI, where the provider sends the browser back
    redirect_uri: str = ""
    #: SAML: our entity id (the address of our metadata) for the connection
    entity_id: str = ""
    #: SAML: our assertion consumer service for the connection
    acs_url: str = ""
    #: SAML: parsed identity provider metadata, kept briefly: the application's
    #: :class:`~mypages.sso.saml.MetadataCache` (``saml.metadata_cache(registry)``);
    #: ``None`` reads the metadata every time
    metadata_cache: object | None = None
