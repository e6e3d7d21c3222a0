"""Errors a user of the API can see.

Every error the API answers with is an `AppError`; one handler turns it into
`{"error": code, "message": text, "details": ...}` with its HTTP status.

    AppError
    ├── BadRequest (400)
    ├── Unauthorized (401)
    │   ├── InvalidCredentials      wrong email or password
    │   ├── RefreshReused           a rotated refresh token came back: the session is revoked
    │   ├── InvalidCode             a wrong or expired two-factor code
    │   └── CodeRequired            the account has two-factor sign-in: a code must come along
    ├── Forbidden (403)
    │   └── CsrfOriginError         a cookie-authenticated write from another origin
    ├── NotFound (404)
    ├── MethodNotAllowed (405)
    ├── Conflict (409)
    │   ├── TaskActive
    │   └── UndecryptableSecret     a stored secret no longer decrypts (SECRET_KEY changed
    │                               without SECRET_KEY_PREVIOUS): it must be entered again
    ├── Gone (410)
    ├── VersionMismatch (412)
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── ValidationFailed (422)
    ├── RateLimited (429)
    ├── IntegrationError (502)
    └── ServiceUnavailable (503)

Each context adds its own errors under these (their trees are in `switchboard/<context>/errors.py`).
Libraries' exceptions are translated at the boundary (`raise IntegrationError(...) from exc`).
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """An error with a stable snake_case code, an HTTP status and a message for people."""

    status = 500
    code = "internal_error"
    message = "Something went wrong"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.details = details
        self.headers = headers or {}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of this error."""
        return {"error": self.code, "message": self.message, "details": self.details}


class BadRequest(AppError):
    """The request cannot be understood."""

    status, code, message = 400, "bad_request", "The request is malformed"


class Unauthorized(AppError):
    """No valid credentials."""

    status, code, message = 401, "unauthorized", "Authentication required"


class InvalidCredentials(Unauthorized):
    """Wrong email or password."""

    code, message = "invalid_credentials", "Wrong email or password"


class RefreshReused(Unauthorized):
    """A rotated refresh token came back: the whole session is revoked."""

    code, message = "refresh_reused", "This sign-in was revoked because its token was reused"


class InvalidCode(Unauthorized):
    """The one-time code is wrong or expired."""

    code, message = "invalid_otp", "The code is not valid"


class CodeRequired(Unauthorized):
    """The account has two-factor sign-in: the code must come with the password."""

    code, message = "otp_required", "Enter the code from your authenticator app"


class Forbidden(AppError):
    """Credentials are valid but do not allow this."""

    status, code, message = 403, "forbidden", "You are not allowed to do this"


class CsrfOriginError(Forbidden):
    """A cookie-authenticated write without a matching Origin."""

    code, message = "csrf_origin", "Cross-site request refused: Origin does not match"


class NotFound(AppError):
    """No such resource, or not visible to the caller."""

    status, code, message = 404, "not_found", "Not found"


class MethodNotAllowed(AppError):
    """The path exists but not with this method."""

    status, code, message = 405, "method_not_allowed", "Method not allowed"


class Conflict(AppError):
    """The request conflicts with the current state."""

    status, code, message = 409, "conflict", "Conflict with the current state"


class TaskActive(Conflict):
    """The user already has a running task."""

    code, message = "task_active", "You already have a task running"


class UndecryptableSecret(Conflict):
    """A stored secret decrypts under none of the configured keys (SECRET_KEY changed without SECRET_KEY_PREVIOUS)."""

    code = "secret_unreadable"
    message = (
        "A stored secret can no longer be read: the server's SECRET_KEY changed and the old one is not in "
        "SECRET_KEY_PREVIOUS. Enter the secret again."
    )


class Gone(AppError):
    """The thing existed but has expired."""

    status, code, message = 410, "gone", "This has expired"


class VersionMismatch(AppError):
    """`If-Match` names a version that is no longer current."""

    status, code, message = 412, "version_mismatch", "The resource was changed by someone else"


class PayloadTooLarge(AppError):
    """The body is larger than allowed."""

    status, code, message = 413, "payload_too_large", "The request body is too large"


class UnsupportedMediaType(AppError):
    """The content type is not accepted."""

    status, code, message = 415, "unsupported_media_type", "This type of content is not supported"


class ValidationFailed(AppError):
    """The body or query does not match the schema; `details` lists each field."""

    status, code, message = 422, "validation_error", "The request did not validate"


class RateLimited(AppError):
    """Too many requests; retry later."""

    status, code, message = 429, "rate_limited", "Too many requests"

    def __init__(self, retry_after_ms: int, message: str | None = None) -> None:
        seconds = max(1, -(-retry_after_ms // 1000))
        super().__init__(message, details={"retry_after_ms": retry_after_ms}, headers={"Retry-After": str(seconds)})


class IntegrationError(AppError):
    """A third-party service failed."""

    status, code, message = 502, "integration_error", "An upstream service failed"


class ServiceUnavailable(AppError):
    """A dependency of Switchboard is down."""

    status, code, message = 503, "service_unavailable", "The service is temporarily unavailable"
