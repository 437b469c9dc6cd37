"""TOTP two-factor authentication (RFC 6238) and recovery codes.

A code is accepted for the current 30-second step or one step either side,
and only once: the step it matched is stored, and an atomic UPDATE refuses
any step not newer than the last one used, also when two requests race.
"""
from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time

import pyotp
import segno
from sqlalchemy import delete, select, update

from mypages.accounts.models import RecoveryCode, TotpCredential
from mypages.services import registry_of
from mypages.work import Work

ISSUER = "My Pages"
STEP = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes


def credential_of(dbsession, user_id: int) -> TotpCredential | None:
    return dbsession.get(TotpCredential, user_id)


def is_enabled(dbsession, user_id: int) -> bool:
    credential = credential_of(dbsession, user_id)
    return credential is not None and credential.confirmed_at is not None


def enabled_among(dbsession, user_ids) -> set[int]:
    """Those of ``user_ids`` whose authenticator app is on."""
    return set(dbsession.scalars(select(TotpCredential.user_id).where(
        TotpCredential.user_id.in_(list(user_ids)), TotpCredential.confirmed_at.is_not(None))))


def begin_enrolment(work: Work, user) -> str:
    """A new, unconfirmed secret (replacing any unconfirmed one); returns it in clear."""
    secret = pyotp.random_base32()
    credential = credential_of(work.dbsession, user.id)
    if credential is None:
        credential = TotpCredential(user_id=user.id)
        work.dbsession.add(credential)
    credential.secret_encrypted = work.registry["crypto"].encrypt(secret)
    credential.confirmed_at = None
    credential.last_used_step = 0
    credential.created_at = work.now()
    return secret


def secret_of(where, credential: TotpCredential) -> str:
    """The credential's secret in clear; ``where`` is the registry or anything with one."""
    return registry_of(where)["crypto"].decrypt(credential.secret_encrypted)


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code as an SVG document, rendered here: no outside service sees the secret."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=5, border=2, xmldecl=False,
                                    svgns=True, title="QR")
    return buffer.getvalue().decode()


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` is valid for at ``now`` (a POSIX time; the system's by
    default), or one step either side; else None."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP), code):
            return step
    return None


def use_code(work: Work, credential: TotpCredential, code: str) -> bool:
    """Accept ``code`` once, at the application's time: refuses a wrong code and any code of
    a step already used."""
    step = matching_step(secret_of(work.registry, credential), code, work.now().timestamp())
    if step is None:
        return False
    result = work.dbsession.execute(
        update(TotpCredential)
        .where(TotpCredential.user_id == credential.user_id, TotpCredential.last_used_step < step)
        .values(last_used_step=step)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    credential.last_used_step = step
    return True


def confirm(work: Work, credential: TotpCredential, code: str) -> bool:
    if not use_code(work, credential, code):
        return False
    credential.confirmed_at = work.now()
    return True


def disable(dbsession, user_id: int) -> None:
    dbsession.execute(delete(TotpCredential).where(TotpCredential.user_id == user_id))
    dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))


# -- recovery codes -------------------------------------------------------------

def _hash_code(code: str) -> str:
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def normalize_recovery_code(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def new_recovery_codes(dbsession, user_id: int) -> list[str]:
    """Replace the user's recovery codes with ten new ones; returned once, stored hashed."""
    dbsession.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    dbsession.add_all(RecoveryCode(user_id=user_id, code_hash=_hash_code(code)) for code in codes)
    return codes


def use_recovery_code(work: Work, user_id: int, code: str) -> bool:
    if len(normalize_recovery_code(code)) != 10:
        return False
    result = work.dbsession.execute(
        update(RecoveryCode)
        .where(RecoveryCode.user_id == user_id, RecoveryCode.code_hash == _hash_code(code),
               RecoveryCode.used_at.is_(None))
        .values(used_at=work.now())
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def recovery_codes_left(dbsession, user_id: int) -> int:
    return len(dbsession.scalars(select(RecoveryCode.id).where(
        RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))).all())
