"""The notification centre's pages: one's notifications, marking them read, and which kinds
also come by e-mail."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.view import view_config
from sqlalchemy import select, update

from mypages.i18n import _, formats_of
from mypages.inbox import choose_email, email_choices, notification_kinds
from mypages.inbox.messages import render
from mypages.inbox.models import Notification
from mypages.services import clock
from mypages.web.inputs import as_id

#: the newest this many are listed; older ones go with the purge
SHOWN = 100


@view_config(route_name="notifications", renderer="mypages:templates/notifications.jinja2",
             permission="signed-in", request_method="GET")
def notifications(request):
    rows = request.dbsession.scalars(
        select(Notification).where(Notification.user_id == request.user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(SHOWN)).all()
    formats, localizer = formats_of(request), request.localizer
    kinds = notification_kinds(request)
    shown = [{"id": row.id, "title": render(row.title, localizer, formats),
              "body": render(row.body, localizer, formats), "link": row.link,
              "kind": request.translate(kinds[row.kind].title) if row.kind in kinds else "",
              "created_at": row.created_at, "unread": row.read_at is None} for row in rows]
    return {"notifications": shown, "unread": sum(item["unread"] for item in shown),
            "messages": request.session.pop_flash()}


@view_config(route_name="notification_read", permission="signed-in", request_method="POST")
def mark_read(request):
    """Mark one of one's own notifications read; another's is "Page not found"."""
    notification_id = as_id(request.matchdict["notification_id"])
    mine = request.dbsession.scalar(select(Notification.read_at.is_(None)).where(
        Notification.id == notification_id, Notification.user_id == request.user.id))
    if mine is None:
        raise HTTPNotFound()
    if mine:
        request.dbsession.execute(
            update(Notification).where(Notification.id == notification_id,
                                       Notification.read_at.is_(None))
            .values(read_at=clock(request).now()).execution_options(synchronize_session=False))
    return HTTPSeeOther(request.route_url("notifications"))


@view_config(route_name="notifications_read_all", permission="signed-in",
             request_method="POST")
def mark_all_read(request):
    request.dbsession.execute(
        update(Notification).where(Notification.user_id == request.user.id,
                                   Notification.read_at.is_(None))
        .values(read_at=clock(request).now()).execution_options(synchronize_session=False))
    request.session.flash(request.translate(_("All your notifications are marked as read.")))
    return HTTPSeeOther(request.route_url("notifications"))


@view_config(route_name="notification_settings", permission="signed-in",
             renderer="mypages:templates/notification_settings.jinja2", request_method="GET")
def settings_page(request):
    choices = email_choices(request.dbsession, request, request.user.id)
    kinds = sorted(notification_kinds(request).values(),
                   key=lambda kind: request.translate(kind.title))
    return {"kinds": [(kind, choices[kind.key]) for kind in kinds],
            "messages": request.session.pop_flash()}


@view_config(route_name="notification_settings", permission="signed-in", request_method="POST")
def save_settings(request):
    """Each kind's box ticked or not: e-mail too or not. Kinds nobody declares are ignored."""
    ticked = set(request.POST.getall("email"))
    choose_email(request.dbsession, request, request.user.id,
                 {key: key in ticked for key in notification_kinds(request)})
    request.session.flash(request.translate(_("Your choices are saved.")))
    return HTTPSeeOther(request.route_url("notification_settings"))
