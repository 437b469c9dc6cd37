"""The platform's sign-in policy, set by operators: a second factor of everyone."""
from __future__ import annotations

import time

from sqlalchemy import select

from mypages.db import read_first
from mypages.policy.models import PlatformPolicy

#: how long a worker trusts the platform's policy as it last read it: a change reaches the
#: worker that made it at once and every other worker within this time
PLATFORM_POLICY_SECONDS = 10.0
PLATFORM_REQUIRES_MFA = select(PlatformPolicy.require_mfa).where(PlatformPolicy.id == 1)


def read_platform_requires_mfa(request) -> bool:
    """The operators' switch as stored now (no row: off)."""
    row = read_first(request, PLATFORM_REQUIRES_MFA, {})
    return bool(row and row.require_mfa)


class PlatformPolicyCache:
    """The platform's policy as this process last read it, read again once it is
    :data:`PLATFORM_POLICY_SECONDS` old: it changes rarely, and a company page costs one
    statement (the request's context) that this must not double. ``clock`` is monotonic."""

    def __init__(self, seconds: float = PLATFORM_POLICY_SECONDS, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._read: tuple[float, bool] | None = None

    def require_mfa(self, request) -> bool:
        read = self._read  # one look: another thread may forget it meanwhile
        if read is None or self.clock() - read[0] >= self.seconds:
            read = (self.clock(), read_platform_requires_mfa(request))
            self._read = read
        return read[1]

    def forget(self) -> None:
        self._read = None

    def forget_after_commit(self, request) -> None:
        """Read again once the request's change is committed (not before: another request
        of this process would keep the old value meanwhile)."""
        request.tm.get().addAfterCommitHook(lambda committed: committed and self.forget())


def platform_requires_mfa(request) -> bool:
    """Whether the operators require a second factor of everyone (``request.platform_requires_mfa``)."""
    return request.registry["policy.platform"].require_mfa(request)


