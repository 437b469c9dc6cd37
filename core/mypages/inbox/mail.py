"""A notification by e-mail: sent by a queued job after the notification is committed, in
the reader's language (theirs, else their company's, else the platform's)."""
from __future__ import annotations

from sqlalchemy import select

from mypages.accounts.models import User
from mypages.companies.models import Company
from mypages.contract import JobContext
from mypages.i18n import _, localizer_for
from mypages.inbox.messages import render_for
from mypages.inbox.models import Notification
from mypages.notifications.compose import reader_locale
from mypages.services import mailer, settings_of
from mypages.web.urls import absolute_url

FOOTER = _("You get this by e-mail as you chose on your account page. To change which "
           "notifications come by e-mail too: ${url}")


def mail_notification(job: JobContext) -> bool:
    """E-mail the notification of the payload; ``False`` if it or its reader is gone."""
    found = job.dbsession.execute(
        select(Notification, User).join(User, User.id == Notification.user_id)
        .where(Notification.id == job.payload["notification_id"])).first()
    if found is None or not found[1].is_active:
        return False
    notification, user = found
    company = (job.dbsession.get(Company, notification.company_id)
               if notification.company_id is not None else None)
    locale = reader_locale(user.locale, company.default_locale if company else None)
    subject = " ".join(render_for(job.registry, locale, notification.title).split())
    parts = [render_for(job.registry, locale, notification.body)]
    if notification.link:
        parts.append(settings_of(job).url(notification.link))
    parts.append(localizer_for(job.registry, locale).translate(_(
        FOOTER, mapping={"url": absolute_url(job, "notification_settings")})))
    mailer(job.registry).send(user.email, subject, "\n\n".join(parts))
    return True
