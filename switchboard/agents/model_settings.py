"""BYOK: the model endpoint a user (or their whole org) brings, with the API key encrypted at rest.

A user's own settings win over their org's; with neither, the platform default applies
(chat decides what that is). The API key is encrypted on the way in, decrypted only to
build a client, and never returned or logged; responses show whether one is set and its
last characters.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from switchboard.agents.builtin.network import check_public_url
from switchboard.agents.errors import DestinationNotAllowed, ModelKeyUnreadable, ProviderUnreachable
from switchboard.agents.models import ModelSettings
from switchboard.agents.providers import OpenAIChatModel, validate
from switchboard.config import Settings
from switchboard.platform.audit import service as audit
from switchboard.platform.auth import Principal
from switchboard.platform.crypto import SecretBox, UndecryptableSecret
from switchboard.platform.errors import BadRequest, Forbidden, ValidationFailed

Scope = Literal["user", "organization"]


@dataclass(frozen=True)
class Provider:
    """A kind of model endpoint Switchboard can talk to (all through the OpenAI-compatible API)."""

    id: str
    label: str
    default_base_url: str | None  # None: the user must give one
    needs_api_key: bool
    embeddings: bool
    example_chat_model: str
    example_embedding_model: str | None = None


PROVIDERS: dict[str, Provider] = {
    p.id: p
    for p in (
        Provider("openai_compatible", "Any OpenAI-compatible server", None, False, True, "my-model"),
        Provider("openai", "OpenAI", "https://api.openai.com/v1", True, True, "gpt-4o-mini", "text-embedding-3-small"),
        Provider("ollama", "Ollama", "http://127.0.0.1:11434/v1", False, True, "llama3.2", "nomic-embed-text"),
        Provider("vllm", "vLLM", None, False, True, "meta-llama/Llama-3.1-8B-Instruct"),
        Provider("openrouter", "OpenRouter", "https://openrouter.ai/api/v1", True, False, "openai/gpt-4o-mini"),
    )
}
VALIDATE_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ResolvedModelSettings:
    """The settings that apply to a principal, with the API key decrypted (keep it in memory only)."""

    source: Scope
    provider: str
    base_url: str
    chat_model: str
    embedding_model: str | None
    api_key: str | None

    def __repr__(self) -> str:  # the dataclass default would print the key
        return f"ResolvedModelSettings(source={self.source!r}, provider={self.provider!r}, base_url={self.base_url!r})"


def owner_of(principal: Principal, scope: Scope) -> str:
    """The unique owner string of the principal's user or org settings."""
    return f"user:{principal.org_id}:{principal.user_id}" if scope == "user" else f"org:{principal.org_id}"


def _may_edit(principal: Principal, scope: Scope) -> None:
    if scope == "organization" and not principal.is_admin:
        raise Forbidden("Only an organization admin can change the organization's model settings")


async def stored(principal: Principal, scope: Scope) -> ModelSettings | None:
    """The principal's own (or their org's) stored settings."""
    return await ModelSettings.get_or_none(owner=owner_of(principal, scope), org_id=principal.org_id)


async def effective(principal: Principal) -> ModelSettings | None:
    """The settings that apply: the user's own, else the org's, else None (the platform default)."""
    rows = await ModelSettings.filter(
        owner__in=[owner_of(principal, "user"), owner_of(principal, "organization")], org_id=principal.org_id
    )
    by_owner = {r.owner: r for r in rows}
    return by_owner.get(owner_of(principal, "user")) or by_owner.get(owner_of(principal, "organization"))


def _base_url(provider: Provider, base_url: str | None) -> str:
    url = (base_url or provider.default_base_url or "").strip().rstrip("/")
    if not url:
        raise ValidationFailed(
            f"{provider.label} needs a base_url",
            details=[{"field": "base_url", "message": "required for this provider", "type": "missing"}],
        )
    if not url.startswith(("http://", "https://")):
        raise ValidationFailed(
            "base_url must be an http(s) URL",
            details=[{"field": "base_url", "message": "must start with http:// or https://", "type": "url"}],
        )
    return url


def _provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ValidationFailed(
            f"Unknown provider {name}",
            details=[{"field": "provider", "message": f"one of {', '.join(PROVIDERS)}", "type": "enum"}],
        ) from None


async def save(
    principal: Principal,
    settings: Settings,
    scope: Scope,
    *,
    provider: str,
    chat_model: str,
    base_url: str | None = None,
    embedding_model: str | None = None,
    api_key: str | None = None,
) -> ModelSettings:
    """Store the settings; `api_key` None keeps the stored key, "" removes it. Audited without the key."""
    _may_edit(principal, scope)
    kind = _provider(provider)
    url = _base_url(kind, base_url)
    row = await stored(principal, scope)
    if row is None:
        row = ModelSettings(
            owner=owner_of(principal, scope),
            org_id=principal.org_id,
            user_id=principal.user_id if scope == "user" else None,
        )
    changed_endpoint = (row.base_url, row.provider) != (url, provider)
    row.provider, row.base_url, row.chat_model = provider, url, chat_model.strip()
    row.embedding_model = (embedding_model or "").strip() or None
    key_changed = api_key is not None
    if api_key is not None:
        key = api_key.strip()
        row.api_key_encrypted = SecretBox.from_settings(settings).encrypt(key) if key else None
        row.api_key_hint = f"…{key[-4:]}" if len(key) >= 12 else ("…" if key else None)
    if changed_endpoint or key_changed:
        row.validated_at = None
    await row.save()
    await audit.record(
        "model_settings.updated",
        actor=principal,
        target_type="model_settings",
        target_id=row.id,
        details={
            "scope": scope,
            "provider": provider,
            "base_url": url,
            "chat_model": row.chat_model,
            "api_key_changed": key_changed,
        },
    )
    return row


async def delete(principal: Principal, scope: Scope) -> bool:
    """Remove the settings (back to the org's or the platform default); True when there were some."""
    _may_edit(principal, scope)
    row = await stored(principal, scope)
    if row is None:
        return False
    await row.delete()
    await audit.record(
        "model_settings.deleted",
        actor=principal,
        target_type="model_settings",
        target_id=row.id,
        details={"scope": scope},
    )
    return True


KEY_UNREADABLE = {
    "user": ModelKeyUnreadable.message,
    "organization": (
        "The organization's stored model API key can no longer be read: the server's SECRET_KEY changed. "
        "An organization admin must enter the key again in the model settings."
    ),
}


def key_problem(row: ModelSettings | None, settings: Settings) -> str | None:
    """What is wrong with the row's stored API key (it no longer decrypts), or None when it is fine or absent."""
    if row is None or not row.api_key_encrypted:
        return None
    try:
        SecretBox.from_settings(settings).decrypt(row.api_key_encrypted)
    except UndecryptableSecret:
        return KEY_UNREADABLE["user" if row.user_id else "organization"]
    return None


async def api_key_of(row: ModelSettings, settings: Settings) -> str | None:
    """The row's decrypted key; a key under an earlier SECRET_KEY is re-encrypted under the current one.

    `ModelKeyUnreadable` when it decrypts under none of the server's keys: it must be entered again.
    """
    if not row.api_key_encrypted:
        return None
    box = SecretBox.from_settings(settings)
    try:
        key = box.decrypt(row.api_key_encrypted)
    except UndecryptableSecret:
        raise ModelKeyUnreadable(KEY_UNREADABLE["user" if row.user_id else "organization"]) from None
    if not box.is_current(row.api_key_encrypted):
        row.api_key_encrypted = box.rotate(row.api_key_encrypted)
        await row.save(update_fields=["api_key_encrypted", "updated_at"])
    return key


async def resolved_model_settings(principal: Principal, settings: Settings) -> ResolvedModelSettings | None:
    """The settings that apply to the principal with the key decrypted; None means the platform default."""
    row = await effective(principal)
    if row is None:
        return None
    return ResolvedModelSettings(
        source="user" if row.user_id else "organization",
        provider=row.provider,
        base_url=row.base_url,
        chat_model=row.chat_model,
        embedding_model=row.embedding_model,
        api_key=await api_key_of(row, settings),
    )


async def check_endpoint(base_url: str, settings: Settings) -> None:
    """Refuse endpoints on internal networks the operator has not trusted (the server makes these requests)."""
    try:
        await check_public_url(base_url, settings.model_private_networks)
    except DestinationNotAllowed as exc:
        if exc.message.startswith("Cannot resolve"):
            raise ProviderUnreachable(
                f"Cannot reach the model provider at {base_url}: its host does not resolve"
            ) from None
        raise BadRequest(exc.message, code="model_endpoint_not_allowed") from None


async def chat_model_for(
    principal: Principal, settings: Settings, *, request_timeout: float = 60.0
) -> OpenAIChatModel | None:
    """A chat model on the principal's own endpoint, or None for the platform default. Close it after use."""
    resolved = await resolved_model_settings(principal, settings)
    if resolved is None:
        return None
    await check_endpoint(resolved.base_url, settings)
    return OpenAIChatModel(
        base_url=resolved.base_url, api_key=resolved.api_key or "", model=resolved.chat_model, timeout=request_timeout
    )


@dataclass(frozen=True)
class ValidationResult:
    """A successful test completion."""

    provider: str
    base_url: str
    chat_model: str
    reply: str
    latency_ms: int


async def validate_endpoint(
    principal: Principal,
    settings: Settings,
    scope: Scope = "user",
    *,
    provider: str | None = None,
    base_url: str | None = None,
    chat_model: str | None = None,
    api_key: str | None = None,
) -> ValidationResult:
    """A real test completion against the given settings, or the stored ones where a field is left out.

    Raises the provider's error (400 `provider_unreachable`, `provider_auth_failed`, ...) when it fails.
    """
    row = await stored(principal, scope)
    kind = _provider(provider or (row.provider if row else "") or "openai_compatible")
    url = _base_url(kind, base_url or (row.base_url if row and not provider else None))
    model_name = (chat_model or (row.chat_model if row else "")).strip()
    if not model_name:
        raise BadRequest(
            "No model settings to validate: give a chat_model, or save settings first", code="model_settings_missing"
        )
    key = api_key if api_key is not None else (await api_key_of(row, settings) if row else None)
    await check_endpoint(url, settings)
    started = time.perf_counter()
    model = OpenAIChatModel(
        base_url=url, api_key=key or "", model=model_name, timeout=VALIDATE_TIMEOUT_SECONDS, max_retries=0
    )
    async with model:
        completion = await validate(model)
    latency_ms = int((time.perf_counter() - started) * 1000)
    if row is not None and (row.base_url, row.chat_model) == (url, model_name) and api_key is None:
        row.validated_at = datetime.now(UTC)
        await row.save(update_fields=["validated_at", "updated_at"])
    await audit.record(
        "model_settings.validated",
        actor=principal,
        target_type="model_settings",
        target_id=row.id if row else None,
        details={"base_url": url, "chat_model": model_name},
    )
    return ValidationResult(kind.id, url, model_name, completion.text[:200], latency_ms)
