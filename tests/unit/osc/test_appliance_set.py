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

"""``openstack sodos appliance set`` / ``unset``: each option becomes a
field of the merge patch sent; what is wrong is said before sending."""

import pytest
from cliff import commandmanager

from sodos.osc.v1 import appliance_set
from tests.unit.osc import conftest as fakes
from tests.unit.osc.conftest import URL

PATH = URL + '/appliances/a1b2c3'


@pytest.fixture(autouse=True)
def commands(monkeypatch):
    """The commands by their entry points' names, whether or not the
    installed package declares them yet."""
    load = commandmanager.CommandManager.load_commands

    def load_with_set(self, namespace):
        load(self, namespace)
        self.add_command('sodos appliance set', appliance_set.SetAppliance)
        self.add_command('sodos appliance unset', appliance_set.UnsetAppliance)

    monkeypatch.setattr(
        commandmanager.CommandManager, 'load_commands', load_with_set
    )


@pytest.fixture
def shown(api):
    record = fakes.appliance()
    record['spec']['members'].append(
        {'name': 'db', 'image': 'cirros', 'flavor': 'm1.medium', 'count': 1}
    )
    api.get(PATH, json={'appliance': record})
    return api.patch(PATH, json={'appliance': record})


def sent(patched):
    assert patched.call_count == 1
    return patched.last_request.json()['appliance']


def test_set_sends_each_option_as_a_field(run, shown, tmp_path):
    key = tmp_path / 'id.pub'
    key.write_text('ssh-ed25519 AAAA me\n')
    result = run(
        'sodos', 'appliance', 'set', 'a1b2c3',
        '--priority', '80',
        '--spread', '1',
        '--site', 'paris', '--site', 'site-0123456789',
        '--public-key', str(key),
        '--property', 'tier=web', '--property', 'team=blue',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert sent(shown) == {
        'priority': 80,
        'constraints': {'spread': 1, 'sites': ['paris', 'site-0123456789']},
        'public_key': 'ssh-ed25519 AAAA me\n',
        'metadata': {'tier': 'web', 'team': 'blue'},
    }
    assert 'web-0@paris ACTIVE' in result.stdout


def test_a_member_count_sends_the_members_as_they_are_but_that(run, shown):
    result = run(
        'sodos', 'appliance', 'set', 'a1b2c3', '--member-count', 'web=3'
    )
    assert result.rc == 0, result.stderr
    assert sent(shown) == {
        'members': [
            {
                'name': 'web',
                'image': 'cirros',
                'flavor': 'm1.small',
                'count': 3,
            },
            {
                'name': 'db',
                'image': 'cirros',
                'flavor': 'm1.medium',
                'count': 1,
            },
        ]
    }


def test_an_unknown_member_is_said_before_sending(run, shown):
    result = run(
        'sodos', 'appliance', 'set', 'a1b2c3', '--member-count', 'cache=2'
    )
    assert result.rc != 0
    assert '--member-count: no member named cache' in result.stderr
    assert 'its members: web, db' in result.stderr
    assert shown.call_count == 0


@pytest.mark.parametrize(
    'argv, words',
    [
        ((), 'nothing to set'),
        (('--member-count', 'web'), "'web' is not KEY=VALUE"),
        (('--member-count', 'web=x'), 'the count must be a whole number'),
        (('--user-data', '/nonexistent/ud'), 'cannot read the user data file'),
    ],
)
def test_set_refuses_what_it_cannot_send(run, shown, argv, words):
    result = run('sodos', 'appliance', 'set', 'a1b2c3', *argv)
    assert result.rc != 0
    assert words in result.stderr
    assert shown.call_count == 0


def test_the_apis_refusal_is_shown_naming_the_field(run, api):
    api.get(PATH, json={'appliance': fakes.appliance()})
    api.patch(
        PATH,
        **fakes.error(
            400,
            'invalid_body',
            'cannot change appliance: body.appliance.constraints.spread: '
            'raising it from 1 to 2 would not move the members',
        ),
    )
    result = run('sodos', 'appliance', 'set', 'a1b2c3', '--spread', '2')
    assert result.rc != 0
    assert 'body.appliance.constraints.spread' in result.stderr


def test_unset_sends_nulls(run, shown):
    result = run(
        'sodos', 'appliance', 'unset', 'a1b2c3',
        '--property', 'tier', '--public-key', '--sites', '--spread',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert sent(shown) == {
        'metadata': {'tier': None},
        'public_key': None,
        'constraints': {'sites': None, 'spread': None},
    }


def test_unset_nothing_sends_nothing(run, shown):
    result = run('sodos', 'appliance', 'unset', 'a1b2c3')
    assert result.rc != 0
    assert 'nothing to unset' in result.stderr
    assert shown.call_count == 0


def test_show_says_why_a_member_is_unplaced(run, api):
    record = fakes.appliance(('ACTIVE', 'unplaced'))
    record['members'][1]['reason'] = 'new; no site can take it: site-ab: full'
    api.get(PATH, json={'appliance': record})
    result = run('sodos', 'appliance', 'show', 'a1b2c3')
    assert result.rc == 0, result.stderr
    assert (
        'web-1@- unplaced srv-1 (new; no site can take it: site-ab: full)'
        in result.stdout
    )


def test_a_spec_file_gives_any_fields_the_options_add_to(run, shown, tmp_path):
    changes = tmp_path / 'changes.yaml'
    changes.write_text(
        'members:\n'
        '  - {name: web, image: cirros, flavor: m1.small, count: 4}\n'
        'metadata: {tier: web}\n'
    )
    result = run(
        'sodos', 'appliance', 'set', 'a1b2c3', '--file', str(changes),
        '--property', 'team=blue',
    )  # fmt: skip
    assert result.rc == 0, result.stderr
    assert sent(shown) == {
        'members': [
            {
                'name': 'web',
                'image': 'cirros',
                'flavor': 'm1.small',
                'count': 4,
            }
        ],
        'metadata': {'tier': 'web', 'team': 'blue'},
    }
