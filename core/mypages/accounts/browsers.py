"""What a session's browser is, for people: "Firefox on Windows", read from its user agent
with ua-parser (the maintained port of Browserscope's rules), never shown raw."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ua_parser import parse

from mypages.i18n import _

#: more than a real browser sends; the rest is never needed to tell one
LONGEST = 512


@dataclass(frozen=True)
class Device:
    browser: str | None
    system: str | None

    def describe(self):
        """A translation string: "Firefox on Windows", "Firefox", or "Unknown browser"."""
        if self.browser and self.system:
            return _("${browser} on ${system}",
                     mapping={"browser": self.browser, "system": self.system})
        if self.browser:
            return self.browser
        return _("Unknown browser")


@lru_cache(maxsize=1024)
def device_of(user_agent: str | None) -> Device:
    found = parse((user_agent or "")[:LONGEST])
    browser = found.user_agent.family if found.user_agent else None
    system = found.os.family if found.os else None
    return Device(browser if browser != "Other" else None, system if system != "Other" else None)
