"""Email: send mail over SMTP (aiosmtplib), STARTTLS or TLS, with a login."""

from __future__ import annotations

import ssl
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import aiosmtplib
from pydantic import BaseModel, EmailStr, Field

from switchboard.integrations.catalog import Connector, ConnectorTool, ProviderCall
from switchboard.integrations.errors import IntegrationAuthFailed, IntegrationFailed, IntegrationUnreachable


class EmailSettings(BaseModel):
    """The SMTP server and the sender."""

    host: str = Field(min_length=1, max_length=255)
    port: int = Field(587, ge=1, le=65535)
    security: str = Field("starttls", pattern=r"^(starttls|tls|none)$", description="starttls, tls or none")
    from_address: EmailStr


class CheckArgs(BaseModel):
    """Arguments of email_check_server (none)."""


class SendArgs(BaseModel):
    """Arguments of email_send."""

    to: list[EmailStr] = Field(min_length=1, max_length=50)
    subject: str = Field(min_length=1, max_length=500)
    text: str = Field("", max_length=200_000)


async def _smtp(call: ProviderCall) -> aiosmtplib.SMTP:
    settings: EmailSettings = call.settings
    # the guard every outbound call passes: the host must be public or in a trusted network
    address = await call.outbound.check(f"http://{settings.host}:{settings.port}/")
    context = ssl.create_default_context()
    client = aiosmtplib.SMTP(
        # plain SMTP goes to the checked address; TLS needs the name, for the certificate
        hostname=address if settings.security == "none" else settings.host,
        port=settings.port,
        use_tls=settings.security == "tls",
        start_tls=settings.security == "starttls",
        tls_context=context if settings.security != "none" else None,
        timeout=15,
        local_hostname="switchboard",
    )
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise IntegrationUnreachable(f"The SMTP server {settings.host}:{settings.port} could not be reached") from exc
    username = call.credentials.get("username")
    if username:
        try:
            await client.login(username, call.credentials.get("password", ""))
        except aiosmtplib.SMTPAuthenticationError as exc:
            await _quit(client)
            raise IntegrationAuthFailed("The SMTP server refused the login") from exc
        except aiosmtplib.SMTPException as exc:
            await _quit(client)
            raise IntegrationFailed(f"The SMTP server refused to log in: {exc.__class__.__name__}") from exc
    return client


async def _quit(client: aiosmtplib.SMTP) -> None:
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()


async def verify(call: ProviderCall) -> str:
    client = await _smtp(call)
    await _quit(client)
    return str(call.settings.from_address)


async def check_server(call: ProviderCall, args: CheckArgs) -> dict[str, Any]:
    client = await _smtp(call)
    try:
        extensions = sorted(client.esmtp_extensions)
    finally:
        await _quit(client)
    return {"server": call.settings.host, "extensions": extensions}


async def send(call: ProviderCall, args: SendArgs) -> dict[str, Any]:
    message = EmailMessage()
    message["From"] = str(call.settings.from_address)
    message["To"] = ", ".join(str(t) for t in args.to)
    message["Subject"] = args.subject
    # a workflow step's message keeps one Message-ID on every attempt, so receivers can drop a repeat
    domain = str(call.settings.from_address).rsplit("@", 1)[-1]
    key = call.idempotency_key
    message["Message-ID"] = (
        f"<{uuid.uuid5(uuid.NAMESPACE_URL, key).hex}@{domain}>" if key else make_msgid(domain=domain)
    )
    message.set_content(args.text or "")
    client = await _smtp(call)
    try:
        await client.send_message(message)
    except aiosmtplib.SMTPException as exc:
        raise IntegrationFailed(f"The SMTP server refused the message: {exc.__class__.__name__}") from exc
    finally:
        await _quit(client)
    return {"sent_to": [str(t) for t in args.to], "message_id": message["Message-ID"]}


CONNECTOR = Connector(
    type="email",
    name="Email (SMTP)",
    description="Send mail through an SMTP server.",
    auth=("basic", "none"),
    settings_model=EmailSettings,
    credential_fields={"basic": ("username", "password"), "none": ()},
    verify=verify,
    tools=(
        ConnectorTool("email_check_server", "What the SMTP server offers.", "read", CheckArgs, check_server),
        ConnectorTool("email_send", "Send an email.", "write", SendArgs, send),
    ),
)
