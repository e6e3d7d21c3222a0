"""`/api/v1/settings/models…`: the model endpoint a user (or, for admins, their org) brings (BYOK)."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import validate_querystring, validate_request, validate_response

from switchboard.agents import model_settings as service
from switchboard.agents.schemas import (
    ModelSettingsIn,
    ModelSettingsOut,
    ModelValidateIn,
    ModelValidateOut,
    ProviderList,
    ProviderOut,
    ScopeQuery,
)
from switchboard.agents.shapes import model_settings_out
from switchboard.platform.auth import current_principal, require_user
from switchboard.platform.openapi import no_content
from switchboard.platform.web import runtime

model_settings = Blueprint("model_settings", __name__, url_prefix="/api/v1/settings/models")


@model_settings.get("")
@require_user
@validate_querystring(ScopeQuery)
@validate_response(ModelSettingsOut)
async def get_model_settings(query_args: ScopeQuery) -> ModelSettingsOut:
    """The settings in effect (the caller's, else the org's, else the platform default), or of one scope."""
    principal = current_principal()
    if query_args.scope is not None:
        row = await service.stored(principal, query_args.scope)
        return model_settings_out(row, query_args.scope, service.key_problem(row, runtime().settings))
    row = await service.effective(principal)
    return model_settings_out(row, "platform", service.key_problem(row, runtime().settings))


@model_settings.put("")
@require_user
@validate_querystring(ScopeQuery)
@validate_request(ModelSettingsIn)
@validate_response(ModelSettingsOut)
async def put_model_settings(query_args: ScopeQuery, data: ModelSettingsIn) -> ModelSettingsOut:
    """Save the caller's (or, with `?scope=organization`, the org's) model endpoint; the key is stored encrypted."""
    row = await service.save(
        current_principal(),
        runtime().settings,
        query_args.scope or "user",
        provider=data.provider,
        chat_model=data.chat_model,
        base_url=data.base_url,
        embedding_model=data.embedding_model,
        api_key=data.api_key,
    )
    return model_settings_out(row, "platform")


@model_settings.delete("")
@require_user
@no_content("Removed")
@validate_querystring(ScopeQuery)
async def delete_model_settings(query_args: ScopeQuery) -> tuple[str, int]:
    """Remove the settings: back to the org's, or the platform default."""
    await service.delete(current_principal(), query_args.scope or "user")
    return "", 204


@model_settings.post("/validate")
@require_user
@validate_request(ModelValidateIn)
@validate_response(ModelValidateOut)
async def validate_model_settings(data: ModelValidateIn) -> ModelValidateOut:
    """A real test completion against the given (or stored) settings; a failure says what is wrong."""
    result = await service.validate_endpoint(
        current_principal(),
        runtime().settings,
        data.scope,
        provider=data.provider,
        base_url=data.base_url,
        chat_model=data.chat_model,
        api_key=data.api_key,
    )
    return ModelValidateOut(ok=True, **result.__dict__)


@model_settings.get("/providers")
@require_user
@validate_response(ProviderList)
async def list_providers() -> ProviderList:
    """The supported providers, their default URLs and example models."""
    return ProviderList(items=[ProviderOut.model_validate(p, from_attributes=True) for p in service.PROVIDERS.values()])
