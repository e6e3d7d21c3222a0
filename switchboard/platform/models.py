"""Every Tortoise model of the platform context (the `platform` app)."""

from switchboard.platform.system.models import SystemCheck

__models__ = [SystemCheck]
