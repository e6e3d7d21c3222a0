"""The org's live stream: every event a member may see, over SSE and WebSocket."""

from switchboard.platform.live.hub import OrgHub, Subscription

__all__ = ["OrgHub", "Subscription"]
