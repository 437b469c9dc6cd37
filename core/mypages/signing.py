"""Signing: plugins offer ways of signing (``mypages_signers``), and any part of the portal
asks a person to sign a text with :func:`request_signature`, then reads the completed
signature back with :func:`find_signature` and checks that it is the one it asked for.

The core keeps no signatures: each signer keeps its own evidence (BankID's XML signature and
OCSP response) and can verify it later.
"""
from __future__ import annotations

from mypages.contract import Signature, SignatureRequest, Signer
from mypages.i18n import _
from mypages.refusals import Refusal

REGISTRY_KEY = "signing.signers"

NO_SIGNER = _("No way of signing is available to this company. A company admin can activate "
              "one (BankID, for example) under Modules.")
#: simpleMarkdownV1 text BankID accepts, and hidden data: the service's limits
TEXT_LIMIT, DATA_LIMIT = 40_000, 200_000


def signers(registry) -> dict[str, Signer]:
    """Every signer the enabled plugins offer, by key (collected once)."""
    found = registry.get(REGISTRY_KEY)
    if found is None:
        found = {}
        for offered in registry["plugins.manager"].hook.mypages_signers():
            for signer in offered or ():
                found.setdefault(signer.key, signer)
        registry[REGISTRY_KEY] = found
    return found


def available_signers(request) -> list[Signer]:
    """The signers the request's company may use (outside a company: those of no module)."""
    entitled = request.entitled_modules if getattr(request, "company", None) else frozenset()
    return [signer for signer in signers(request.registry).values()
            if signer.available_to(entitled)]


def request_signature(request, signature_request: SignatureRequest, method: str | None = None):
    """The response that takes the person to sign ``signature_request`` with ``method`` (a
    signer's key), or with the first signer available to the request's company. Raises
    :class:`~mypages.refusals.Refusal` when none is available, the text or data is too long,
    or ``next_url`` leads off this portal."""
    if len(signature_request.text) > TEXT_LIMIT or len(signature_request.data) > DATA_LIMIT:
        raise ValueError("the text or the data to sign is too long for a signature")
    if not signature_request.next_url.startswith(request.application_url + "/"):
        raise ValueError("next_url must be an address of this portal")
    available = [signer for signer in available_signers(request)
                 if method is None or signer.key == method]
    if not available:
        raise Refusal(NO_SIGNER)
    return available[0].start(request, signature_request)


def find_signature(registry, dbsession, reference: str, *, purpose: str,
                   user_id: int) -> Signature | None:
    """The completed signature of ``reference`` if it was made for ``purpose`` by the person
    ``user_id``; else ``None`` (also for a reference no signer knows)."""
    if not reference or len(reference) > 100:
        return None
    for signer in signers(registry).values():
        signature = signer.find(dbsession, reference)
        if signature is not None:
            if signature.purpose == purpose and signature.user_id == user_id:
                return signature
            return None
    return None
