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
    # without JavaScript, the pages that ask before removing a person or withdrawing an invitation
    config.add_company_route("company_person_remove_confirm", "/settings/people/{user_id}/remove",
                             request_method="GET")
    config.add_company_route("company_invitation_withdraw_confirm",
                             "/settings/people/invitations/{invitation_id}/withdraw",
                             request_method="GET")
    config.scan(".views")
