"""E-mail: the :class:`~mypages.services.Mailer` service sends it over SMTP, or writes it to
files under var/ in development."""
from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mypages.i18n import localizer_for  # noqa: F401  (e-mail is in its reader's language)
from mypages.services import Mailer, mailer, settings_of
from mypages.settings import SmtpSettings

log = logging.getLogger(__name__)


def build_message(sender: str, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(domain="mypages")
    message.set_content(body)
    return message


class SmtpMailer(Mailer):
    def __init__(self, smtp: SmtpSettings, sender: str):
        self.smtp = smtp
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        message = build_message(self.sender, to, subject, body)
        with smtplib.SMTP(self.smtp.host, self.smtp.port, timeout=20) as smtp:
            if self.smtp.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.smtp.user:
                smtp.login(self.smtp.user, self.smtp.password)
            smtp.send_message(message)


class DirectoryMailer(Mailer):
    """Each message an ``.eml`` file in ``directory``: development without a mail server."""

    def __init__(self, directory: str, sender: str):
        self.directory = directory
        self.sender = sender

    def send(self, to: str, subject: str, body: str) -> None:
        message = build_message(self.sender, to, subject, body)
        os.makedirs(self.directory, exist_ok=True)
        # the random part keeps two mails of the same clock tick apart
        name = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f") + f"-{uuid.uuid4().hex[:8]}.eml"
        with open(os.path.join(self.directory, name), "xb") as handle:
            handle.write(bytes(message))
        log.info("mail to %s written to %s (no SMTP host configured)", to, self.directory)


def mailer_from_settings(settings) -> Mailer:
    if settings.smtp.host:
        return SmtpMailer(settings.smtp, settings.mail_sender)
    return DirectoryMailer(settings.mail_directory, settings.mail_sender)


def send_mail(registry, to: str, subject: str, body: str) -> None:
    """Send one plain-text message with the application's mailer; raises on failure so the
    job is retried."""
    mailer(registry).send(to, subject, body)


def includeme(config):
    config.register_service(mailer_from_settings(settings_of(config)), Mailer)
