"""The rule registry: every rule module, named once here, in the order they run (sorted by name).
A test checks that no module of this package is missing from it."""

from __future__ import annotations

import importlib
from types import ModuleType

#: The rule modules of this package, sorted (the one place a rule is registered).
RULE_MODULES = (
    "agent_command_failed",
    "agent_not_processing",
    "agent_update",
    "agent_update_failed",
    "agent_version_outdated",
    "auto_update_disabled",
    "catalogue_message",
    "disk_full",
    "extension_command_failed",
    "extension_command_timeout",
    "extension_handling_disabled",
    "extension_provisioning_timeout",
    "extension_upgrade",
    "imds_unreachable",
    "package_manager_lock",
    "unsupported_os",
    "wireserver_unreachable",
)

REGISTRY: tuple[ModuleType, ...] = tuple(importlib.import_module(f"{__name__}.{name}") for name in RULE_MODULES)
