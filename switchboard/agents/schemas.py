"""Request and response shapes of the agents, admin tier, authz and model settings routes."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from switchboard.platform.pagination import PageQuery
from switchboard.platform.query import QueryArgs

AccessValue = Literal["allow", "deny", "inherit"]
SourceValue = Literal["platform", "organization", "group", "user", "preference", "agent", "default"]


# --- decisions (the explainer) -----------------------------------------------------------------


class TierValuesOut(BaseModel):
    """Each tier's raw value behind a decision."""

    platform: AccessValue
    organization: AccessValue
    groups: dict[str, AccessValue] = Field(description="Each of the user's groups' own value, by group id.")
    group: AccessValue = Field(description="The groups combined: any allow wins.")
    user: AccessValue
    preference: AccessValue | None = Field(None, description="The user's own preference (tools only).")


class DecisionOut(BaseModel):
    """Whether an agent or tool is usable, the tier the result came from, and why."""

    allowed: bool
    source: SourceValue
    reason: str
    tiers: TierValuesOut


class ConfirmTiersOut(BaseModel):
    """Each tier's raw confirmation setting; null means not set."""

    default: bool
    platform: bool | None = None
    organization: bool | None = None
    groups: dict[str, bool] = Field(default_factory=dict)
    group: bool | None = None
    user: bool | None = None
    preference: bool | None = None


class ConfirmationOut(BaseModel):
    """Whether calls of a tool wait for a person's approval, and why."""

    required: bool
    source: SourceValue
    reason: str
    tiers: ConfirmTiersOut


# --- the user's view ----------------------------------------------------------------------------


class ToolOut(BaseModel):
    """A tool the caller was granted, and its effective state for them."""

    name: str
    description: str
    kind: Literal["read", "write"]
    parameters: dict[str, object] = Field(description="JSON-schema of the tool's arguments.")
    enabled: bool = Field(description="False when the caller turned it off in their own settings.")
    confirmation_required: bool
    source: SourceValue = Field(description="The tier the access result came from.")


class AgentOut(BaseModel):
    """An agent the caller may use."""

    name: str
    description: str
    tools: list[ToolOut]


class AgentList(BaseModel):
    """The agents the caller may use."""

    items: list[AgentOut]
    total: int


class PreferencesIn(BaseModel):
    """The caller's own settings for an agent's tools; they can only narrow what admins allow."""

    tools: dict[str, AccessValue] = Field(default_factory=dict, description="Tool name -> deny turns it off.")
    confirm: dict[str, bool] = Field(default_factory=dict, description="Tool name -> true asks before every call.")


class PreferencesOut(BaseModel):
    """The caller's own settings for an agent, and each tool's effective state."""

    agent: str
    tools: dict[str, AccessValue]
    confirm: dict[str, bool]
    effective: list[ToolOut]
    updated_at: datetime | None = None


# --- admin tiers ----------------------------------------------------------------------------


class PolicyIn(BaseModel):
    """One tier's settings for one agent; what is left out is inherit (the body replaces the tier's settings)."""

    access: AccessValue = "inherit"
    tools: dict[str, AccessValue] = Field(default_factory=dict)
    confirm: dict[str, bool] = Field(default_factory=dict)


class TierToolOut(BaseModel):
    """A tool at one tier: this tier's values, and the effective result as seen from this tier."""

    name: str
    kind: Literal["read", "write"]
    access: AccessValue = Field(description="This tier's own value.")
    confirm: bool | None = Field(description="This tier's own confirmation setting; null when not set.")
    effective: DecisionOut
    confirmation: ConfirmationOut


class TierAgentOut(BaseModel):
    """An agent at one tier: this tier's value, the effective result and where it came from, per tool too."""

    name: str
    description: str
    tier: Literal["platform", "organization", "group", "user"]
    access: AccessValue = Field(description="This tier's own value.")
    effective: DecisionOut
    tools: list[TierToolOut]
    updated_at: datetime | None = None
    updated_by: UUID | None = None


class TierAgentList(BaseModel):
    """Every agent at one tier."""

    tier: Literal["platform", "organization", "group", "user"]
    org_id: UUID | None = None
    group_id: UUID | None = None
    user_id: UUID | None = None
    items: list[TierAgentOut]
    total: int


class OverrideOut(BaseModel):
    """One member's override of one agent."""

    user_id: UUID
    email: str
    name: str
    agent: str
    access: AccessValue
    tools: dict[str, AccessValue]
    confirm: dict[str, bool]
    updated_at: datetime


class OverrideQuery(PageQuery):
    """Which overrides to list."""

    q: str | None = Field(None, max_length=200, description="Matches the member's email or name, or the agent.")
    agent: str | None = Field(None, max_length=64)


class OverridePage(BaseModel):
    """A page of user overrides."""

    items: list[OverrideOut]
    total: int
    limit: int
    offset: int


# --- permissions and authz ---------------------------------------------------------------------


class ToolPermissionOut(BaseModel):
    """The caller's access to one tool, explained."""

    name: str
    allowed: bool
    confirmation_required: bool
    decision: DecisionOut


class AgentPermissionOut(BaseModel):
    """The caller's access to one agent and its tools, explained."""

    name: str
    allowed: bool
    decision: DecisionOut
    tools: list[ToolPermissionOut]


class PermissionsOut(BaseModel):
    """The caller's effective access in the active org."""

    user_id: UUID
    org_id: UUID
    role: str
    is_admin: bool
    is_superadmin: bool
    agents: list[AgentPermissionOut]


AuthzAction = Literal["agent.use", "tool.use", "tool.run_unconfirmed"]


class AuthzCheckIn(BaseModel):
    """May principal P do action A on resource R? P is the caller, or (admins) a member of their org."""

    action: AuthzAction = Field(
        description="agent.use: use an agent; tool.use: use a tool; tool.run_unconfirmed: run a tool without "
        "a person's approval."
    )
    resource: str = Field(min_length=1, max_length=64, description="The agent's or the tool's name.")
    user_id: UUID | None = Field(None, description="Whom to ask about; default the caller (others: admins only).")


class AuthzCheckOut(BaseModel):
    """The answer to one check."""

    allowed: bool
    action: AuthzAction
    resource: str
    user_id: UUID
    reason: str
    source: SourceValue | None = None


class AuthzBatchIn(BaseModel):
    """Several checks at once (at most 100)."""

    checks: list[AuthzCheckIn] = Field(max_length=100)


class AuthzBatchOut(BaseModel):
    """The answers, in the order asked."""

    results: list[AuthzCheckOut]


# --- model settings (BYOK) -----------------------------------------------------------------------

ProviderId = Literal["openai_compatible", "openai", "ollama", "vllm", "openrouter"]
# a key travels in an HTTP header: printable ASCII only, or the call could never be made
API_KEY_PATTERN = r"^[ -~]*$"


class ScopeQuery(QueryArgs):
    """Whose model settings: the caller's own (default) or, for admins, the organization's."""

    scope: Literal["user", "organization"] | None = None


class ModelSettingsIn(BaseModel):
    """A model endpoint to use instead of the platform default."""

    provider: ProviderId
    chat_model: str = Field(min_length=1, max_length=200)
    base_url: str | None = Field(None, max_length=500, description="Default: the provider's own URL, if it has one.")
    embedding_model: str | None = Field(None, max_length=200)
    api_key: str | None = Field(
        None,
        max_length=1000,
        pattern=API_KEY_PATTERN,
        description='Stored encrypted, never returned. Left out: keep the stored key; "": remove it.',
    )


class ModelSettingsOut(BaseModel):
    """The model settings in effect (or of the asked scope); the API key is never shown."""

    source: Literal["user", "organization", "platform"]
    configured: bool
    provider: str | None = None
    base_url: str | None = None
    chat_model: str | None = None
    embedding_model: str | None = None
    has_api_key: bool = False
    api_key_hint: str | None = Field(None, description="The key's last characters, to recognise it.")
    api_key_problem: str | None = Field(
        None, description="Set when the stored key can no longer be used (it must be entered again), and why."
    )
    validated_at: datetime | None = None
    updated_at: datetime | None = None


class ModelValidateIn(BaseModel):
    """What to test; fields left out come from the stored settings."""

    provider: ProviderId | None = None
    base_url: str | None = Field(None, max_length=500)
    chat_model: str | None = Field(None, max_length=200)
    api_key: str | None = Field(None, max_length=1000, pattern=API_KEY_PATTERN)
    scope: Literal["user", "organization"] = "user"


class ModelValidateOut(BaseModel):
    """A successful test completion."""

    ok: bool
    provider: str
    base_url: str
    chat_model: str
    reply: str
    latency_ms: int


class ProviderOut(BaseModel):
    """A supported provider."""

    id: str
    label: str
    default_base_url: str | None
    needs_api_key: bool
    embeddings: bool
    example_chat_model: str
    example_embedding_model: str | None = None


class ProviderList(BaseModel):
    """The supported providers."""

    items: list[ProviderOut]
