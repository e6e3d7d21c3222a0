"""Chat: agent tasks that stream every step, conversations, approvals and memories."""
