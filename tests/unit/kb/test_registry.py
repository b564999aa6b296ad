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

"""The registry of KB commands: each declared once, complete, consistent."""

import importlib
import pkgutil

import fastjsonschema
import pytest

from sodos.kb import commands
from sodos.kb import sections
from sodos.kb import state
from sodos.kb.sections import base
from sodos.kb.sections import registry

# The commands of schema version 1. A change here changes what members
# accept: a member of older code refuses a command it does not know, so a
# new command is proposed only once every site runs the new code (the
# release note of each says so); a changed command needs a new
# SCHEMA_VERSION.
NAMES = {
    'federation.init',
    'leader.claim',
    'policy.set',
    'site.register',
    'site.profile',
    'site.leave',
    'site.status',
    'site.maintenance',
    'site.catalog',
    'monitoring.report',
    'member.role',
    'membership.lock',
    'membership.unlock',
    'alert.raise',
    'alert.close',
    'alert.ack',
    'appliance.put',
    'appliance.update',
    'appliance.delete',
    'placement.set',
    'placement.delete',
    'action.put',
    'action.update',
    'action.prune',
    'plan.apply',
    'image.register',
    'image.distribute',
    'image.delete',
    'image.site_failed',
    'image.purge',
    'identity.domain.put',
    'identity.domain.delete',
    'identity.project.put',
    'identity.project.delete',
    'identity.user.put',
    'identity.user.delete',
    'identity.group.put',
    'identity.group.delete',
    'identity.membership.put',
    'identity.membership.delete',
    'identity.assignment.put',
    'identity.assignment.delete',
    'identity.map',
    'identity.adopt',
    'identity.adoption.finish',
    'identity.keys.set',
    'identity.keys.rotate',
    'identity.keys.ack',
    'identity.revocation.add',
    'identity.revocation.prune',
    'owner.policy',
    'owner.usage',
    'owner.reclaim',
}
LEADER_ONLY = {
    'leader.claim',
    'site.status',
    'member.role',
    'membership.lock',
    'membership.unlock',
    'placement.set',
    'placement.delete',
    'action.put',
    'action.prune',
    'plan.apply',
    'identity.keys.rotate',
    'identity.revocation.prune',
    'owner.usage',
    'owner.reclaim',
}


def family_modules():
    for info in pkgutil.iter_modules(sections.__path__):
        module = importlib.import_module('sodos.kb.sections.' + info.name)
        if isinstance(getattr(module, 'COMMANDS', None), base.Family):
            yield module


def test_every_family_module_is_registered():
    found = {id(module.COMMANDS) for module in family_modules()}
    registered = [id(family) for family in registry.FAMILIES]
    assert len(registered) == len(set(registered))
    assert found == set(registered)


def test_every_command_is_declared_once():
    names = [d.name for f in registry.FAMILIES for d in f.declared]
    assert len(names) == len(set(names))
    assert set(names) == NAMES
    assert set(registry.DECLARED) == NAMES


def test_the_leader_only_commands():
    declared = {n for n, d in registry.DECLARED.items() if d.leader_only}
    assert declared == LEADER_ONLY
    assert commands.LEADER_ONLY == LEADER_ONLY


@pytest.mark.parametrize('name', sorted(NAMES))
def test_each_command_has_a_schema_and_an_applier(name):
    declared = registry.DECLARED[name]
    assert declared.name == name
    assert isinstance(declared.leader_only, bool)
    assert callable(declared.applier)
    assert declared.schema['type'] == 'object'
    assert declared.schema['additionalProperties'] is False
    fastjsonschema.compile(declared.schema)


def test_the_envelope_and_the_state_machine_know_every_command():
    assert commands._ENVELOPE_SCHEMA['properties']['type']['enum'] == sorted(
        NAMES
    )
    assert set(commands._ARGS) == NAMES
    assert set(state._APPLIERS) == NAMES


def test_a_command_declared_twice_is_refused():
    one, two = base.Family(), base.Family()
    one.declare('x.y', {'type': 'object'}, lambda data, cmd: {})
    two.declare('x.y', {'type': 'object'}, lambda data, cmd: {})
    with pytest.raises(ValueError, match='x.y is declared twice'):
        registry.index([one, two])
