"""A company's people: its members and their roles, invitations, its admins."""
from __future__ import annotations


def includeme(config):
    config.register_core_hooks("core.people", "mypages.people.hooks")
    config.add_route("invitation", "/invitation/{token}")
    config.add_company_route("company_people", "/settings/people")
    config.add_company_route("company_person", "/settings/people/{user_id}/{action}",
                             request_method="POST")
    config.add_company_route("company_invitations", "/settings/people/invitations",
                             request_method="POST")
    config.scan(".views")
