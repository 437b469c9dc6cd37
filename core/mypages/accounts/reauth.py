"""The view option ``require_reauth=``: a sensitive change needs a recent proof of who you are.

::

    @view_config(route_name="two_factor", form_action="disable", permission="signed-in",
                 require_reauth=True)

sends a session whose last proof is older than
:data:`~mypages.accounts.methods.REAUTH_WINDOW` to re-authenticate first (ASVS 7.5.1),
then back. ``True`` comes back to the same address (a page that posts to itself); a route
name comes back to that route's page (for a form posted elsewhere).
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from mypages.accounts.methods import recently_proven
from mypages.services import clock


def back_to(request, option) -> str:
    if option is True:
        return request.path_qs if request.method == "GET" else request.path
    return request.route_path(option)


def reauth_view_deriver(view, info):
    option = info.options.get("require_reauth")
    if not option:
        return view

    def reauthenticated(context, request):
        if recently_proven(request.user_session, now=clock(request).now()):
            return view(context, request)
        return HTTPSeeOther(request.route_url("reauth", _query={"next": back_to(request, option)}))

    return reauthenticated


reauth_view_deriver.options = ("require_reauth",)


def includeme(config):
    config.add_view_deriver(reauth_view_deriver, name="require_reauth")
