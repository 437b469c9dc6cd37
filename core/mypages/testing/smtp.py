"""A real SMTP server on loopback for tests: what the app sends, read back as parsed messages.

Built on aiosmtpd, so the app's own ``smtplib`` client speaks the real protocol
to it; nothing in the app is replaced.
"""
from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"
LINK_PATTERN = re.compile(r"https?://\S+")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class _Collector:
    """aiosmtpd handler: keeps every delivered message, parsed; refuses the recipients the
    test said to (:meth:`SmtpServer.refuse`)."""

    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_RCPT(self, _server, session, envelope, address, rcpt_options):
        with self.server._lock:
            left = self.server.refusals.get(address.lower(), 0)
            if left:
                self.server.refusals[address.lower()] = left - 1
                return "550 5.2.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, session, envelope):
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self.server._lock:
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.messages.append(message)
        return "250 Message accepted for delivery"


class SmtpServer:
    """``start()``, then point ``mypages.smtp.host``/``port`` at ``host``/``port``."""

    def __init__(self, host: str = HOST):
        self.host = host
        self.port: int | None = None
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []  # (MAIL FROM, RCPT TO) of each message
        self.refusals: dict[str, int] = {}  # address -> how many more times it is refused
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> "SmtpServer":
        # aiosmtpd cannot listen on port 0 (it connects to its own port to check it is up)
        for attempt in range(5):
            controller = Controller(_Collector(self), hostname=self.host, port=_free_port())
            try:
                controller.start()
            except Exception:
                if attempt == 4:
                    raise
                continue
            self._controller, self.port = controller, controller.port
            return self
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def settings(self) -> dict:
        """App settings that send mail here, in plain text (no STARTTLS on loopback)."""
        return {"mypages.smtp.host": self.host, "mypages.smtp.port": str(self.port),
                "mypages.smtp.starttls": "false"}

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()
            self.refusals.clear()

    def refuse(self, address: str, times: int = 1) -> None:
        """Refuse ``address`` at RCPT TO (550) the next ``times`` times, as a mail server
        with that mailbox unavailable does."""
        with self._lock:
            self.refusals[address.lower()] = times

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to ``address``."""
        address = address.lower()
        with self._lock:
            return [message for message, (_from, rcpts) in zip(self.messages, self.envelopes)
                    if address in (rcpt.lower() for rcpt in rcpts)]


def body_of(message: EmailMessage) -> str:
    """The plain-text body, with the wire's CRLF line ends made plain newlines."""
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def link_in(message: EmailMessage) -> str:
    """The one link in a message's plain-text body."""
    links = LINK_PATTERN.findall(body_of(message))
    assert len(links) == 1, f"expected one link, found {links}"
    return links[0]
