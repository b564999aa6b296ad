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

"""``openstack`` registers its commands without importing them once the
sodos plugin is loaded (sodos.osc.lazy_commands). Each case runs in a
fresh interpreter: what a command manager imports is the point."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SCRIPT = """
import json, sys
if sys.argv[1] == 'plugin':
    import sodos.osc.plugin
from cliff import commandmanager
ignored = sys.argv[2:]
manager = commandmanager.CommandManager(
    'openstack.sodos.v1', ignored_modules=ignored
)
names = sorted(manager.commands)
before = 'sodos.osc.v1.whatif' in sys.modules
found = None
if 'sodos whatif show' in manager.commands:
    factory, _, _ = manager.find_command(['sodos', 'whatif', 'show'])
    found = factory.__module__
print(json.dumps({
    'names': names,
    'imported_before_use': before,
    'found': found,
    'imported_after_use': 'sodos.osc.v1.whatif' in sys.modules,
}))
"""


def registered(*args):
    done = subprocess.run(
        [sys.executable, '-c', SCRIPT, *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope='module')
def eager():
    # cliff as released: every command module imported at registration.
    # Should this fail, cliff registers lazily by itself and
    # sodos.osc.lazy_commands can go.
    return registered('cliff')


def test_cliff_alone_imports_every_command_module(eager):
    assert eager['imported_before_use'] is True


def test_the_plugin_registers_the_same_commands_without_importing_them(
    eager,
):
    lazy = registered('plugin')
    assert lazy['names'] == eager['names']
    assert 'sodos federation show' in lazy['names']
    assert lazy['imported_before_use'] is False
    # The command that runs is loaded when it is looked up.
    assert lazy['found'] == 'sodos.osc.v1.whatif'
    assert lazy['imported_after_use'] is True


def test_ignored_modules_are_still_left_out():
    lazy = registered('plugin', 'sodos.osc.v1.whatif')
    assert lazy['found'] is None
    assert 'sodos whatif show' not in lazy['names']
    assert 'sodos federation show' in lazy['names']


def test_entry_points_are_listed_without_being_loaded():
    done = subprocess.run(
        [
            sys.executable,
            '-c',
            'import importlib.metadata, json, sys\n'
            'from sodos.osc import lazy_commands\n'
            "group = 'openstack.sodos.v1'\n"
            'found = lazy_commands.entry_points(group)\n'
            'metadata = importlib.metadata.entry_points(group=group)\n'
            'print(json.dumps({\n'
            "    'same': sorted(e.value for e in found)\n"
            '    == sorted(e.value for e in metadata),\n'
            "    'count': len(found),\n"
            "    'loaded': 'sodos.osc.v1.whatif' in sys.modules,\n"
            '}))\n',
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    listed = json.loads(done.stdout.strip().splitlines()[-1])
    assert listed['count'] > 0
    assert listed == {'same': True, 'count': listed['count'], 'loaded': False}
