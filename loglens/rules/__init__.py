"""The rule registry: every rule module, listed explicitly (a test checks nothing is missing)."""

from __future__ import annotations

from loglens.rules import (
    extension_command_timeout,
    extension_provisioning_timeout,
    imds_unreachable,
    package_manager_lock,
    unsupported_os,
    wireserver_unreachable,
)

#: Rule modules in the order they run, sorted by module name.
REGISTRY = (
    extension_command_timeout,
    extension_provisioning_timeout,
    imds_unreachable,
    package_manager_lock,
    unsupported_os,
    wireserver_unreachable,
)
