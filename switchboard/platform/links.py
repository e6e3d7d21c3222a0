"""Addresses of this app for a person to open: in mails, and in the banner at start.

They come from configuration only (`PUBLIC_URL`, else the host and port it serves on), never from a
request's Host header: that is the caller's to choose, and a password-reset link built from it would
send the token wherever an attacker pointed it.
"""

from __future__ import annotations

from urllib.parse import quote

from switchboard.config import Settings


def app_url(settings: Settings, path: str = "/") -> str:
    """`PUBLIC_URL` + `path`, else this host and port (a wildcard bind reads as localhost) + `path`."""
    if settings.public_url:
        base = settings.public_url.rstrip("/")
    else:
        host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        base = f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"  # an IPv6 address in brackets
    return base + "/" + path.lstrip("/")


def token_url(settings: Settings, path: str, token: str) -> str:
    """A page's address with a mailed token in it: `…/reset-password?token=…` or `…/invitations/…`."""
    if path.endswith("/"):
        return app_url(settings, path + quote(token, safe=""))
    return app_url(settings, f"{path}?token={quote(token, safe='')}")


def names_this_machine_only(settings: Settings) -> bool:
    """True when links would name this machine to people elsewhere: no PUBLIC_URL, yet serving beyond loopback."""
    return not settings.public_url and settings.host not in ("127.0.0.1", "localhost", "::1")
