"""The design system in the core's stylesheet (mypages.css): its colours are readable, and
every page of the core is built on it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

import mypages

STATIC = Path(mypages.__file__).parent / "static"
TEMPLATES = Path(mypages.__file__).parent / "templates"

#: (foreground token, background token, least contrast): 4.5:1 for text (WCAG 1.4.3), 3:1 for
#: the edges of controls and the focus ring (WCAG 1.4.11)
PAIRS = [
    ("ink", "bg", 4.5), ("ink", "card", 4.5), ("ink", "subtle", 4.5),
    ("muted", "bg", 4.5), ("muted", "card", 4.5),
    ("accent", "bg", 4.5), ("accent", "card", 4.5), ("accent-ink", "accent", 4.5),
    ("bad", "bad-bg", 4.5), ("bad", "card", 4.5), ("ok", "ok-bg", 4.5), ("ok", "card", 4.5),
    ("warn", "card", 4.5),
    ("border", "card", 3), ("border", "bg", 3), ("border", "subtle", 3),
    ("focus", "bg", 3), ("focus", "card", 3), ("focus", "accent", 1),
]


def tokens() -> dict[str, str]:
    css = (STATIC / "mypages.css").read_text()
    root = re.search(r":root\s*\{(.*?)\}", css, re.S).group(1)
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", root))


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(one: str, other: str) -> float:
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("foreground, background, least", PAIRS)
def test_colour_pairs_of_the_design_system_are_readable(foreground, background, least):
    colours = tokens()
    ratio = contrast(colours[foreground], colours[background])
    assert ratio >= least, f"--{foreground} on --{background}: {ratio:.2f}:1 < {least}:1"


def test_the_contrast_check_tells_a_weak_pair():
    # the old focus ring and input border: under 3:1 on white
    assert contrast("#f0a500", "#ffffff") < 3
    assert contrast("#9aa4b2", "#ffffff") < 3


def test_controls_and_the_focus_ring_use_the_tokens_not_colours_of_their_own():
    css = (STATIC / "mypages.css").read_text()
    focus = re.search(r":focus-visible\s*\{([^}]*)\}", css).group(1)
    assert "var(--focus)" in focus
    controls = re.search(r"\ninput\[type=email\][^{]*\{([^}]*)\}", css).group(1)
    assert "var(--border)" in controls


def test_every_page_of_the_core_extends_the_layout():
    """A page of its own (not a part to include, nor an e-mail) extends the layout, and so
    gets the stylesheet; no page brings styles of its own."""
    for template in TEMPLATES.glob("*.jinja2"):
        text = template.read_text()
        assert "style=" not in text and "<style" not in text, template.name
        if template.name.startswith("_") or template.name in {"layout.jinja2", "health.jinja2"}:
            continue
        head = "\n".join(text.splitlines()[:3])
        assert re.search(r'\{% extends "mypages:templates/(settings_)?layout\.jinja2" %\}', head), \
            template.name
