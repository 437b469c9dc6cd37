"""What every page must be, checked in a real browser: no sideways scrolling, no axe-core
violation. Used by the core's sweep of every page (tests/e2e/test_every_page.py) and open to
plugin authors for their own pages:

    from mypages.testing.pages import page_problems
    assert page_problems(browser_page) == []

axe-core comes bundled with axe-playwright-python (the test extra), so nothing is fetched.
"""
from __future__ import annotations

from dataclasses import dataclass

from axe_playwright_python.sync_playwright import Axe

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}

_axe = Axe()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a page: ``rule`` (``overflow`` or an axe-core rule id), what it
    says, and where (CSS selectors)."""

    rule: str
    what: str
    where: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = ", ".join(self.where[:5])
        return f"[{self.rule}] {self.what}" + (f" at {where}" if where else "")


def overflow(page) -> Problem | None:
    """The page scrolls sideways: the document is wider than the window, and the widest
    elements that stick out."""
    found = page.evaluate("""() => {
        const root = document.documentElement;
        if (root.scrollWidth <= root.clientWidth) return null;
        const out = [];
        for (const e of document.body.querySelectorAll("*")) {
            const box = e.getBoundingClientRect();
            if (box.right > root.clientWidth + 1 && box.width > 0) {
                let name = e.tagName.toLowerCase();
                if (e.id) name += "#" + e.id;
                else if (e.classList.length) name += "." + [...e.classList].join(".");
                out.push(name + " (" + Math.round(box.right) + "px)");
            }
        }
        return {width: root.scrollWidth, client: root.clientWidth, out: out.slice(0, 8)};
    }""")
    if found is None:
        return None
    return Problem("overflow", f"{found['width']}px wide in a {found['client']}px window",
                   tuple(found["out"]))


def axe_violations(page) -> list[Problem]:
    """Every violation axe-core finds on the page as it is now (all of its rules but the
    experimental ones)."""
    results = _axe.run(page)
    return [Problem(v["id"], v["help"], tuple(", ".join(node["target"]) if isinstance(
                node["target"], list) else str(node["target"]) for node in v["nodes"]))
            for v in results.response["violations"]]


def page_problems(page) -> list[Problem]:
    """Overflow and axe-core violations of the page at its current viewport."""
    problems = axe_violations(page)
    wide = overflow(page)
    return ([wide] if wide else []) + problems
