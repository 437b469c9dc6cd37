"""Notes: a small but complete mypages plugin.

It offers one module ("notes"): a page where the people of a company keep
shared notes, a link to it in the top bar, a settings tab for the company's
admins, a dashboard card, its own table with its own migration history, its
own translations, its notes in the REST API (mypages_example_notes/api.py), and a
"What's new" entry. The plugin-author guide walks through it.
"""
import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, func, select

from mypages.toolkit import (DashboardCard, MigrationSource, Module, NavigationItem, Price,
                             SettingsTab, WhatsNew, hookimpl, read_first)

from mypages_example_notes.api import add_operations
from mypages_example_notes.common import MODULE_KEY, _, ngettext
from mypages_example_notes.data import mypages_company_erase, mypages_company_export  # noqa: F401
from mypages_example_notes.models import Note

#: the hookspec version this plugin was written for (2.3: mypages_demo, the REST API; 2.4:
#: its notes in the company's data export and erasure)
mypages_hookspec = "2.4"

#: the company of the demo data (mypages-devtools makes it; made here if that is not installed)
DEMO_COMPANY = "Demo AB"
WELCOME = "Welcome! Notes kept here are shared by everyone at the company."


@hookimpl
def mypages_modules():
    return [Module(
        key=MODULE_KEY,
        title=_("Notes"),
        description=_("Shared notes for everyone in the company."),
        trial_days=10,
        price=Price(Decimal("49"), "SEK", per=_("per month")),
    )]


@hookimpl
def mypages_migrations():
    return MigrationSource("mypages-example-notes", "mypages_example_notes:migrations")


@hookimpl
def mypages_company_settings_tabs(request, company):
    return [SettingsTab("notes", _("Notes"), "notes_settings")]


@hookimpl
def mypages_navigation(request, company):
    return [NavigationItem(_("Notes"), "notes")]


#: how many notes a company has (``company_id``)
NOTES_OF = select(func.count()).select_from(Note).where(Note.company_id == bindparam("company_id"))


@hookimpl
def mypages_dashboard_cards(request, company):
    # the dashboard only reads: no ORM session for it
    count = read_first(request, NOTES_OF, {"company_id": company.id})[0]
    return [DashboardCard(_("Notes"), ngettext("${num} note", "${num} notes", count),
                          route_name="notes")]


@hookimpl(trylast=True)  # after the demo company is made
def mypages_demo(context):
    """A welcome note in the demo company, once (``mypages demo``, development only)."""
    company = context.company(DEMO_COMPANY)
    kept = select(Note.id).where(Note.company_id == company.id, Note.text == WELCOME)
    if context.dbsession.scalars(kept).first() is None:
        context.dbsession.add(Note(company_id=company.id, text=WELCOME))
    return [f"a welcome note in {company.name} (activate the Notes trial to see it)"]


@hookimpl
def mypages_whats_new():
    """Shown once to each person in the bell; keep past entries, add new ones on top."""
    return [WhatsNew("notes-0.1-api", dt.date(2026, 12, 3), _("Notes in the REST API"),
                     _("Your company's notes can now be read and written through the REST "
                       "API, with a token that has the notes scopes."), version="0.1")]


@hookimpl
def mypages_api(api):
    add_operations(api)


def includeme(config):
    config.add_translation_dirs("mypages_example_notes:locale/")
    config.add_company_route("notes", "/notes")
    config.add_company_route("notes_settings", "/settings/notes")
    config.scan(".views")
