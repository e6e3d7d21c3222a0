"""Errors of the agents context.

    AppError
    ├── BadRequest (400)
    │   └── InvalidExpression          the calculator could not evaluate an expression
    ├── Forbidden (403)
    │   └── DestinationNotAllowed      the http agent refused a URL (allow-list, SSRF guard)
    ├── NotFound (404)
    │   ├── UnknownAgent
    │   └── UnknownTool
    ├── Conflict (409)
    │   ├── DuplicateName              an agent or tool name is registered twice
    │   └── UndecryptableSecret
    │       └── ModelKeyUnreadable     a stored model API key no longer decrypts: enter it again
    ├── ValidationFailed (422)
    │   └── InvalidToolArguments       a tool call's arguments do not match its schema
    └── IntegrationError (502)
        ├── FetchFailed                the http agent's request failed
        └── ProviderError              a chat model provider failed (5xx, malformed answer)
            ├── ProviderUnreachable (400)   connection refused, DNS, timeout
            ├── ProviderAuthFailed (400)    the API key was refused
            ├── ProviderRejected (400)      the provider refused the request (unknown model, bad input)
            └── ProviderRateLimited (429)   the provider asks to slow down

Provider errors that a user can fix in their model settings answer 400, so a BYOK
validation shows what is wrong instead of a generic upstream failure.
"""

from __future__ import annotations

from switchboard.platform.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    IntegrationError,
    NotFound,
    UndecryptableSecret,
    ValidationFailed,
)


class InvalidExpression(BadRequest):
    """The calculator refused or could not evaluate an expression."""

    code, message = "invalid_expression", "The expression cannot be evaluated"


class DestinationNotAllowed(Forbidden):
    """The URL is not on the admin's allow-list, or resolves to a private address."""

    code, message = "destination_not_allowed", "This destination is not allowed"


class UnknownAgent(NotFound):
    """No agent by that name is registered."""

    code, message = "agent_not_found", "No such agent"


class UnknownTool(NotFound):
    """No tool by that name is registered."""

    code, message = "tool_not_found", "No such tool"


class DuplicateName(Conflict):
    """An agent or tool name is already registered."""

    code, message = "duplicate_name", "This name is already registered"


class ModelKeyUnreadable(UndecryptableSecret):
    """The stored model API key decrypts under none of the server's keys (SECRET_KEY changed)."""

    code = "model_key_unreadable"
    message = (
        "The stored model API key can no longer be read: the server's SECRET_KEY changed. "
        "Enter the key again in the model settings."
    )


class InvalidToolArguments(ValidationFailed):
    """A tool call's arguments do not match the tool's schema."""

    code, message = "invalid_tool_arguments", "The tool's arguments did not validate"


class FetchFailed(IntegrationError):
    """The http agent's request could not be completed."""

    code, message = "fetch_failed", "The request failed"


class ProviderError(IntegrationError):
    """A chat model provider failed."""

    code, message = "provider_error", "The model provider failed"


class ProviderUnreachable(ProviderError):
    """The model provider cannot be reached (connection refused, DNS, timeout)."""

    status, code, message = 400, "provider_unreachable", "The model provider cannot be reached"


class ProviderAuthFailed(ProviderError):
    """The model provider refused the API key."""

    status, code, message = 400, "provider_auth_failed", "The model provider refused the API key"


class ProviderRejected(ProviderError):
    """The model provider refused the request (unknown model, invalid input)."""

    status, code, message = 400, "provider_rejected", "The model provider refused the request"


class ProviderRateLimited(ProviderError):
    """The model provider asks us to slow down."""

    status, code, message = 429, "provider_rate_limited", "The model provider is rate limiting requests"
