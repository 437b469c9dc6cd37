"""The notification centre's own kinds, "What's new" entries and jobs."""
import datetime as dt

from mypages.contract import NotificationKind, PeriodicJob, QueuedJobType, WhatsNew
from mypages.hookspecs import hookimpl
from mypages.i18n import _
from mypages.inbox import MAIL_JOB, deliver_whats_new, getting_started
from mypages.inbox.mail import mail_notification
from mypages.inbox.trials import KIND as TRIAL, REMIND_AT, remind_of_trials


@hookimpl
def mypages_notification_kinds():
    return [NotificationKind("whats_new", _("What's new"), email=False),
            NotificationKind(TRIAL, _("Trials of modules (to admins)"), email=True)]


@hookimpl
def mypages_whats_new():
    return [WhatsNew("mypages-0.1-notifications", dt.date(2026, 12, 3), _("Notifications"),
                     _("The bell at the top of every page shows what is new for you: trial "
                       "reminders, news about your sign-in and what changed in My Pages. "
                       "Choose on your account page which also come by e-mail."),
                     version="0.1", route_name="notification_settings")]


@hookimpl
def mypages_user_signed_in(request, user):
    deliver_whats_new(request, user.id)


@hookimpl
def mypages_jobs():
    return [QueuedJobType(MAIL_JOB, mail_notification),
            PeriodicJob("inbox.trial_reminders", remind_of_trials, at=REMIND_AT)]


@hookimpl
def mypages_dashboard_cards(request, company):
    return getting_started.cards(request, company)
