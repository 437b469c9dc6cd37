"""Dashboard cards: a short text, or the plugin's own template rendered inside the card."""
from __future__ import annotations

import textwrap
from decimal import Decimal

import pytest

from mypages.toolkit import DashboardCard, hookimpl


class CardPlugin:
    """A plugin that offers no module: asked for every company."""

    def __init__(self, cards):
        self.cards = cards

    @hookimpl
    def mypages_dashboard_cards(self, request, company):
        return self.cards


@pytest.fixture
def offer_cards(app):
    pm = app.registry["plugins.manager"]

    def offer(*cards):
        pm.register(CardPlugin(list(cards)), name="test-cards")

    yield offer
    if pm.get_plugin("test-cards") is not None:
        pm.unregister(name="test-cards")


def test_a_card_body_from_the_plugins_template(factory, signed_in, offer_cards, tmp_path):
    template = tmp_path / "card.jinja2"
    template.write_text(textwrap.dedent("""\
        <ul class="test-card">
          <li>{{ _("Dashboard") }}</li>
          <li>{{ request.format_number(total, 2) }}</li>
          <li>{{ title }}</li>
        </ul>
        """))
    company = factory.company()
    member = factory.user(company=company, locale="sv")
    offer_cards(DashboardCard("Text card", "Plain <text>"),
                DashboardCard("Template card", template=str(template),
                              values={"total": Decimal("1234.5"), "title": "<script>x</script>"}))

    page = signed_in(member).get(f"/c/{company.id}/")

    # the text card as before, escaped
    assert "<p>Plain &lt;text&gt;</p>" in page.text
    card = page.html.find("ul", class_="test-card")
    assert card is not None and card.find_parent("div", class_="card-body") is not None
    assert [item.text for item in card.find_all("li")] == [
        "Översikt", "1\xa0234,50", "<script>x</script>"]  # in the reader's language
    assert "&lt;script&gt;x&lt;/script&gt;" in page.text  # values are escaped as usual
    assert "<script>x</script>" not in page.text
