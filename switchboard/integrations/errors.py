"""Errors of the integrations context; a provider's failure is translated into one of these at the boundary.

AppError
├── BadRequest (400)
│   ├── IntegrationAuthFailed         the provider refused the credentials (integration_auth_failed)
│   ├── DestinationNotAllowed         a private address or a path off the allow-list
│   └── InvalidOAuthState             a tampered, expired, used or foreign `state`
├── NotFound (404)
│   ├── UnknownConnector
│   └── ConnectionNotFound
├── Conflict (409)
│   ├── NeedsReconnect                the provider revoked the connection's token
│   └── OAuthNotConfigured
├── RateLimited (429)
│   └── IntegrationRateLimited        the provider keeps answering 429 (integration_rate_limited)
└── IntegrationError (502)
    ├── IntegrationUnreachable        no answer (integration_unreachable)
    └── IntegrationFailed             the provider answered an error (integration_failed)
"""

from __future__ import annotations

from switchboard.platform.errors import BadRequest, Conflict, IntegrationError, NotFound, RateLimited


class IntegrationAuthFailed(BadRequest):
    """The provider refused the credentials."""

    code, message = "integration_auth_failed", "The provider refused these credentials"


class DestinationNotAllowed(BadRequest):
    """An address or a path connectors may not reach."""

    code, message = "integration_destination_not_allowed", "This destination is not allowed"


class InvalidOAuthState(BadRequest):
    """The OAuth `state` is unknown, expired, used, or another session's."""

    code, message = "invalid_oauth_state", "The sign-in could not be verified; start it again"


class UnknownConnector(NotFound):
    """No connector of that type."""

    code, message = "unknown_connector", "No such connector"


class ConnectionNotFound(NotFound):
    """No connection of the caller's (or their org's) by that id or service."""

    message = "Connection not found"


class NeedsReconnect(Conflict):
    """The provider revoked the connection's token: a person must connect it again."""

    code = "integration_needs_reconnect"
    message = "The provider revoked this connection; connect it again"


class OAuthNotConfigured(Conflict):
    """The connector signs in with OAuth but no OAuth app is configured for it."""

    code, message = "oauth_not_configured", "No OAuth app is configured for this connector"


class IntegrationRateLimited(RateLimited):
    """The provider kept answering 429 after our retries."""

    code = "integration_rate_limited"


class IntegrationUnreachable(IntegrationError):
    """The provider did not answer (connection refused, timeout)."""

    code, message = "integration_unreachable", "The provider could not be reached"


class IntegrationFailed(IntegrationError):
    """The provider answered with an error."""

    code, message = "integration_failed", "The provider answered with an error"
