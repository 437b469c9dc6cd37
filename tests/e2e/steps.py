"""Steps the browser tests share: things a person does on the site."""
from __future__ import annotations

from mypages.testing import chromium

PASSWORD = "e2e-correct-horse-battery"
PHONE = {"width": 390, "height": 844}


def choose_language(page, code: str) -> None:
    """Use the language switcher in the header (a plain form; works without JavaScript)."""
    switcher = page.locator("form.language")
    switcher.get_by_role("combobox").select_option(code)
    with page.expect_navigation():
        switcher.get_by_role("button").click()


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in page's two steps (the address, then the password)."""
    chromium.sign_in(page, email, password)


def html_lang(page) -> str:
    return page.evaluate("document.documentElement.lang")


def has_horizontal_scroll(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def open_sign_in_and_sign_in(page, email: str, password: str = PASSWORD) -> None:
    """From signed out: the sign-in page in English, then the form."""
    page.goto("/login")
    choose_language(page, "en")
    sign_in(page, email, password)


def focused(page) -> dict:
    """What has the keyboard focus: enough to tell the sign-in form's parts apart."""
    return page.evaluate("""() => {
        const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), id: e.id, type: e.type || "",
                form: e.form ? e.form.id : ""};
    }""")


def sign_out(page) -> None:
    """The "Sign out" button in the header (a form post, as the page has it)."""
    with page.expect_navigation():
        page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()


def sign_in_with_email_only(page, email: str) -> None:
    """Identifier-first: the e-mail address alone; a company with Single Sign On takes over."""
    chromium.enter_address(page, email)


def card(page, heading: str):
    """A card of a settings page, found by its heading (the cards are not named regions)."""
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading, exact=True))
