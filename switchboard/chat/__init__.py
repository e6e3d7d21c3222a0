"""Chat: agent tasks that stream every step, conversations, approvals and memories.

The context's public face: other contexts use `service` (tasks and conversations), `memory`
(what Switchboard keeps about a person), never the modules inside; tool confirmations wait in
the approvals inbox (`switchboard.approvals`).
"""

from switchboard.chat import memory, service

__all__ = ["memory", "service"]
