"""The animated QR code: its content at a second of the order, and that content as an image.

The content is ``bankid.<qrStartToken>.<time>.<qrAuthCode>``: ``time`` the whole seconds
since the auth response came, ``qrAuthCode`` the HMAC-SHA256 of that number (as text) keyed
with ``qrStartSecret``. The secret stays on the server; the browser gets the image of the
current content only.
"""
from __future__ import annotations

import hashlib
import hmac

import segno


def auth_code(qr_start_secret: str, seconds: int) -> str:
    return hmac.new(qr_start_secret.encode(), str(seconds).encode(), hashlib.sha256).hexdigest()


def qr_content(qr_start_token: str, qr_start_secret: str, seconds: int) -> str:
    seconds = max(0, int(seconds))
    return f"bankid.{qr_start_token}.{seconds}.{auth_code(qr_start_secret, seconds)}"


def qr_data_uri(content: str) -> str:
    """The QR code of ``content`` as an SVG ``data:`` address for an ``<img>`` (the portal's
    content security policy allows images from ``data:``, and an image runs no script)."""
    return segno.make(content, error="l", micro=False).svg_data_uri(scale=4, border=4)
