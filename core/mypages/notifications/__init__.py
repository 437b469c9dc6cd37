"""E-mail: sent over SMTP, or written to files under var/ in development."""
from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mypages.i18n import localizer_for
from mypages.settings import resolve_secret

log = logging.getLogger(__name__)


def build_message(settings: dict, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.get("mypages.mail.sender", "My Pages <no-reply@localhost>")
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(dt.datetime.now(dt.timezone.utc))
    message["Message-ID"] = make_msgid(domain="mypages")
    message.set_content(body)
    return message


def send_mail(registry, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises on failure so the job is retried."""
    settings = registry.settings
    message = build_message(settings, to, subject, body)
    host = settings.get("mypages.smtp.host", "").strip()
    if not host:
        directory = settings.get("mypages.mail.directory", "var/mail")
        os.makedirs(directory, exist_ok=True)
        # the random part keeps two mails of the same clock tick apart
        name = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f") + f"-{uuid.uuid4().hex[:8]}.eml"
        with open(os.path.join(directory, name), "xb") as handle:
            handle.write(bytes(message))
        log.info("mail to %s written to %s (no SMTP host configured)", to, directory)
        return
    port = int(settings.get("mypages.smtp.port", 587))
    with smtplib.SMTP(host, port, timeout=20) as smtp:
        if settings.get("mypages.smtp.starttls", "true").lower() == "true":
            smtp.starttls(context=ssl.create_default_context())
        user = settings.get("mypages.smtp.user", "")
        if user:
            smtp.login(user, resolve_secret(settings.get("mypages.smtp.password")))
        smtp.send_message(message)


def includeme(config):
    settings = config.get_settings()
    settings.setdefault("mypages.base_url", "http://127.0.0.1:6543")
