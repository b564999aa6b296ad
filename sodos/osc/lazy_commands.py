# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""Commands of ``openstack`` registered without importing them.

cliff's ``CommandManager.load_commands`` (4.17.0, the release the
project's constraints pin) builds a ``stevedore.ExtensionManager`` for
each command group, which imports the module of every command of every
installed plugin, although it keeps only the entry points and imports
the one command it runs again when it runs it. Every ``openstack``
command thus pays for all the others: on the development machine
``openstack sodos federation show`` took 1.67 s of CPU against 1.15 s
for ``openstack --version``; registered from the entry points alone it
takes 1.30 s (``benchmarks/cli_start.py``).

The sodos plugin module is imported by OpenStackClient before it makes
its command manager, so :func:`install` puts a lazy ``load_commands`` in
place for the whole ``openstack`` process: the same registration
(names, ignored modules, duplicates warned of), with the entry points
read from stevedore's cache (its public ``list_entry_points``) and
loaded by cliff's ``find_command`` only for the command that runs, as
cliff did before it used stevedore there.
A command module that fails to import then fails when its command is
run, not at every start. Nothing is changed for a cliff whose command
manager does not look like the one this was written for. Upstream has
no fix at the time of writing; drop this module once cliff registers
its commands without loading them.
"""

from __future__ import annotations

import importlib.metadata
import logging
from typing import Any

LOG = logging.getLogger(__name__)

# What this relies on of cliff's CommandManager.
_NEEDED = ('load_commands', '_is_module_ignored')


def entry_points(group: str) -> list[importlib.metadata.EntryPoint]:
    """The entry points of ``group``, none of them loaded."""
    try:
        from stevedore import extension
    except ImportError:
        return list(importlib.metadata.entry_points(group=group))
    # Through stevedore's on-disk cache of the entry points: reading
    # every installed distribution's metadata again for each command
    # group costs as much as the imports saved. A manager made with no
    # extensions loads nothing; it only lists its namespace's entry
    # points (and shares them with stevedore's other managers).
    manager: extension.ExtensionManager[Any]
    manager = extension.ExtensionManager.make_test_instance(
        [], namespace=group
    )
    return list(manager.list_entry_points())


def load_commands(self: Any, namespace: str) -> None:
    """cliff's ``CommandManager.load_commands``, without the imports."""
    self.group_list.append(namespace)
    for ep in entry_points(namespace):
        if self._is_module_ignored(ep.module, self.ignored_modules):
            continue
        name = ep.name
        if self.convert_underscores:
            name = name.replace('_', ' ')
        if name in self.commands:
            LOG.warning(
                'found duplicate implementations of the %r command in '
                '%s and %s',
                name,
                self.commands[name].value,
                ep.value,
            )
        self.commands[name] = ep


load_commands.sodos_lazy = True  # type: ignore[attr-defined]


def install() -> bool:
    """Register ``openstack``'s commands lazily from now on; whether it
    is in place."""
    try:
        from cliff import commandmanager
    except ImportError:
        return False
    manager = commandmanager.CommandManager
    if getattr(manager.load_commands, 'sodos_lazy', False):
        return True
    if not all(hasattr(manager, name) for name in _NEEDED):
        return False
    manager.load_commands = load_commands  # type: ignore[method-assign]
    return True
