"""A local, strict stand-in for Zoho Accounts and Zoho Desk.

It imports nothing of ``ringodesk_cli.zoho``: a stand-in that shares the client's
assumptions cannot catch the client's mistakes. Behaviour follows Zoho's OpenAPI files
(zohodesk-oas) and Zoho Desk's API documentation; where they leave a behaviour open, the
sandbox has a setting for each reading (docs/zoho-readings.md).

    from ringodesk_cli.sandbox import SandboxConfig, start_sandbox
    sb = start_sandbox(SandboxConfig(port=0))
    code = sb.mint_grant_code()
    ...
    sb.stop()

Where Zoho's documentation leaves a behaviour open, the sandbox has a *reading* setting for it
(``READINGS``; strict by default, ``SandboxConfig(readings="lenient")`` for the other preset,
``Sandbox.set_readings`` at run time); docs/zoho-readings.md describes each.
"""

from ringodesk_cli.sandbox.config import (
    DEFAULT_SCOPES,
    LENIENT,
    READINGS,
    STRICT,
    SandboxConfig,
)
from ringodesk_cli.sandbox.server import FAULT_KINDS, Sandbox
from ringodesk_cli.sandbox.wire import start_sandbox

__all__ = [
    "DEFAULT_SCOPES",
    "FAULT_KINDS",
    "LENIENT",
    "READINGS",
    "STRICT",
    "Sandbox",
    "SandboxConfig",
    "start_sandbox",
]
