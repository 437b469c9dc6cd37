"""Demo data for ``make run``: a company with an admin and a user, a platform operator, and
the company's mail domain verified for Single Sign On through the offline identity
providers under ``/_dev/``. The passwords are known, which is why production refuses this
plugin."""
from __future__ import annotations

from mypages.toolkit import DemoContext, TranslationStringFactory

from mypages_devtools.identity import DEMO_DOMAIN

_ = TranslationStringFactory("mypages_devtools")

DEMO_COMPANY = "Demo AB"
DEMO_ORG_NUMBER = "556000-0001"
#: (e-mail, name, password, what: "admin", "member" or "operator")
DEMO_PEOPLE = [
    ("admin@demo.example", "Astrid Admin", "demo-admin-password", "admin"),
    ("user@demo.example", "Ulf User", "demo-user-password", "member"),
    ("operator@demo.example", "Olga Operator", "demo-operator-password", "operator"),
]


#: how the sign-in page of a development portal names each of them
WHO = {"admin": _("Admin of ${company}", mapping={"company": DEMO_COMPANY}),
       "member": _("Member of ${company}", mapping={"company": DEMO_COMPANY}),
       "operator": _("Platform operator")}


def sign_ins() -> list[tuple]:
    return [(WHO[what], email, password) for email, _name, password, what in DEMO_PEOPLE]


def seed(context: DemoContext) -> list[str]:
    """Make the demo company and people once; later runs change nothing."""
    company = context.company(DEMO_COMPANY, org_number=DEMO_ORG_NUMBER)
    lines = [f"Sign in at {context.base_url}/ with:"]
    for email, name, password, what in DEMO_PEOPLE:
        if what == "operator":
            context.person(email, name, password, operator=True)
        else:
            context.person(email, name, password, company=company, admin=what == "admin")
        lines.append(f"  {what:9} {email}  password: {password}")
    if context.verified_domain(company, DEMO_DOMAIN):
        lines.append(f"Single Sign On: {DEMO_DOMAIN} is verified for {DEMO_COMPANY}; open "
                     f"{context.base_url}/_dev/ for what to type in the Single Sign On tab.")
    return lines
