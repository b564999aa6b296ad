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

import pytest

from sodos import exception
from sodos.kb import commands


def test_make_stamps_id_time_origin_and_version():
    cmd = commands.make('site.leave', {'site': 'a'}, origin='a', now=12.5)
    assert len(cmd.id) == 32
    assert cmd.ts == 12.5
    assert cmd.origin == 'a'
    # The oldest schema that knows it: members of older code accept it.
    assert cmd.v == 1
    assert commands.make('site.leave', {'site': 'a'}, 'a').id != cmd.id


def test_a_command_added_later_carries_the_schema_that_added_it():
    cmd = commands.make(
        'appliance.update',
        {'appliance_id': 'a' * 32, 'spec': {}, 'updated_at': None},
        'a',
    )
    assert cmd.v == 2 == commands.SCHEMA_VERSION


def test_a_command_older_than_its_schema_is_refused_everywhere():
    # Members of schema 1 do not know appliance.update at all; a newer
    # member must refuse it too, or the states would part.
    wire = commands.make(
        'appliance.update',
        {'appliance_id': 'a' * 32, 'spec': {}, 'updated_at': None},
        'a',
    ).to_wire()
    wire['v'] = 1
    assert commands.check(wire) == (
        'command.v: appliance.update needs schema version 2, not 1'
    )


def test_wire_round_trip():
    cmd = commands.make('site.register', {'site': 'a', 'address': 'h:1'}, 'a')
    assert commands.Command.from_wire(cmd.to_wire()) == cmd


@pytest.mark.parametrize(
    'type_, args, words',
    [
        ('site.register', {'site': 'a'}, 'site.register must contain'),
        (
            'site.register',
            {'site': 'a b', 'address': 'h:1'},
            'site.register.site must match',
        ),
        (
            'site.register',
            {'site': 'a', 'address': 'nope'},
            'site.register.address must match',
        ),
        (
            'site.register',
            {'site': 'a', 'address': 'h:1', 'x': 1},
            'must not contain',
        ),
        (
            'policy.set',
            {'key': 'voter_count', 'value': 4},
            'policy.voter_count must be one of',
        ),
        (
            'policy.set',
            {'key': 'colour', 'value': 1},
            'policy.set.key must be one of',
        ),
        ('no.such', {}, 'command.type must be one of'),
    ],
)
def test_invalid_commands_are_refused_naming_the_field(type_, args, words):
    with pytest.raises(exception.InvalidCommand) as err:
        commands.make(type_, args, 'a')
    assert words in str(err.value)


def test_leader_only_command_needs_a_term():
    with pytest.raises(exception.InvalidCommand, match='needs its term'):
        commands.make('site.status', {'site': 'a', 'status': 'down'}, 'a')
    cmd = commands.make(
        'site.status', {'site': 'a', 'status': 'down'}, 'a', term=3
    )
    assert cmd.term == 3


def test_newer_schema_version_is_refused_with_advice():
    wire = commands.make('site.leave', {'site': 'a'}, 'a').to_wire()
    wire['v'] = commands.SCHEMA_VERSION + 1
    assert 'upgrade this site' in commands.check(wire)


@pytest.mark.parametrize('data', [None, [], 'x', 1])
def test_non_mapping_is_refused(data):
    assert 'must be a mapping' in commands.check(data)
