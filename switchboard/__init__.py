"""Switchboard: agent-centric chat and workflow orchestration."""

__version__ = "0.1.0"
