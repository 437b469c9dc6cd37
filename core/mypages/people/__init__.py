"""A company's people: its members and their roles, invitations, its admins."""
from __future__ import annotations


def includeme(config):
    config.add_company_route("company_people", "/settings/people")
    config.add_company_route("company_person", "/settings/people/{user_id}/{action}",
                             request_method="POST")
    config.add_company_route("company_invitations", "/settings/people/invitations",
                             request_method="POST")
    config.add_company_route("company_security", "/settings/security")
    config.scan(".views")
