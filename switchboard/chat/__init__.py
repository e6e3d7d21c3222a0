"""Chat: agent tasks that stream every step, conversations, approvals and memories.

The context's public face: other contexts use `service` (tasks and conversations), `memory`
(what Switchboard keeps about a person) and `approvals`, never the modules inside.
"""

from switchboard.chat import approvals, memory, service

__all__ = ["approvals", "memory", "service"]
