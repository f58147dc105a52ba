"""The rule registry: every rule module, listed explicitly (a test checks nothing is missing)."""

from __future__ import annotations

from loglens.rules import (
    agent_command_failed,
    agent_not_processing,
    agent_update,
    agent_update_failed,
    agent_version_outdated,
    auto_update_disabled,
    catalogue_message,
    disk_full,
    extension_command_failed,
    extension_command_timeout,
    extension_handling_disabled,
    extension_provisioning_timeout,
    extension_upgrade,
    imds_unreachable,
    package_manager_lock,
    unsupported_os,
    wireserver_unreachable,
)

#: Rule modules in the order they run, sorted by module name.
REGISTRY = (
    agent_command_failed,
    agent_not_processing,
    agent_update,
    agent_update_failed,
    agent_version_outdated,
    auto_update_disabled,
    catalogue_message,
    disk_full,
    extension_command_failed,
    extension_command_timeout,
    extension_handling_disabled,
    extension_provisioning_timeout,
    extension_upgrade,
    imds_unreachable,
    package_manager_lock,
    unsupported_os,
    wireserver_unreachable,
)
