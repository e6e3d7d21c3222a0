"""Outgoing mail: SMTP when configured, otherwise kept in the outbox table for admins (never dropped)."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Protocol

from switchboard.platform.identity.models import OutboxMail

log = logging.getLogger(__name__)


class Mailer(Protocol):
    """Sends one message."""

    async def send(self, to: str, subject: str, body: str) -> None:
        """Deliver (or queue) the message."""


class OutboxMailer:
    """Keeps every message in the outbox table; with an SMTP host, also sends it."""

    def __init__(self, smtp_host: str | None = None, smtp_port: int = 25, sender: str = "switchboard@localhost"):
        self.smtp_host = smtp_host
        self.smtp_port = smtp_port
        self.sender = sender

    async def send(self, to: str, subject: str, body: str) -> None:
        """Store the message, then try SMTP; a failed send stays in the outbox unsent."""
        mail = await OutboxMail.create(to=to, subject=subject, body=body)
        if not self.smtp_host:
            return
        try:
            await asyncio.to_thread(self._smtp, to, subject, body)
        except OSError:
            log.warning("could not send mail %s through SMTP; it stays in the outbox", mail.id)
            return
        mail.sent_at = datetime.now(UTC)
        await mail.save(update_fields=["sent_at"])

    def _smtp(self, to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, to, subject
        message.set_content(body)
        assert self.smtp_host
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=10) as smtp:
            smtp.send_message(message)
