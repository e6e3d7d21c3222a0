"""Integrations: connectors (catalog, connections, OAuth, one outbound path) and their tools.

Other code imports what this module exports, not the modules inside.
"""

from switchboard.integrations.catalog import Connector, ConnectorTool, connector, connectors
from switchboard.integrations.models import ChatSetting, Connection, UserMapping, WriteLedger
from switchboard.integrations.service import Integrations, rotate_secrets

__all__ = [
    "ChatSetting",
    "Connection",
    "Connector",
    "ConnectorTool",
    "Integrations",
    "UserMapping",
    "WriteLedger",
    "connector",
    "connectors",
    "rotate_secrets",
]
