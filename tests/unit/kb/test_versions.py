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

"""A command newer than a site's code is not proposed (rolling upgrades)."""

from __future__ import annotations

import pytest

from sodos import exception
from sodos.kb import commands
from sodos.kb import memory
from sodos.kb import versions

UPDATE = {'appliance_id': 'a' * 32, 'spec': {'name': 'x'}, 'updated_at': None}
SPEC = {
    'name': 'x',
    'members': [{'name': 'web', 'image': 'i', 'flavor': 'f', 'count': 1}],
}


def site(status='up', **published):
    return {'status': status, 'published': published}


def test_a_site_that_publishes_nothing_runs_the_first_schema():
    assert versions.published(site()) == 1
    assert versions.published({'status': 'up'}) == 1
    assert versions.published(site(kb_schema='2')) == 1
    assert versions.published(site(kb_schema=2)) == 2


def test_the_oldest_sites_are_named_and_left_sites_not_waited_for():
    sites = {
        'b': site(kb_schema=2),
        'a': site(status='down'),
        'c': site(),
        'gone': site(status='left'),
    }
    assert versions.oldest(sites) == (1, ['a', 'c'])
    assert versions.oldest({'gone': site(status='left')}) == (None, [])
    assert versions.refusal('appliance.update', 2, sites) == (
        'appliance.update needs every site to run KB schema 2 or newer; '
        '2 site(s) run 1 (a, c): upgrade sodos there first'
    )
    del sites['a'], sites['c']
    assert versions.refusal('appliance.update', 2, sites) is None


@pytest.fixture
def kb(conf):
    backend = memory.MemoryBackend(conf)
    backend.start()
    yield backend
    backend.stop()


def register(kb, name, **info):
    result = kb.propose(
        'site.register',
        {'site': name, 'address': 'h-' + name + ':1', 'info': info},
    )
    assert result['ok']


def test_a_newer_command_waits_until_every_site_runs_its_schema(kb):
    register(kb, 'new', kb_schema=commands.SCHEMA_VERSION)
    register(kb, 'old')
    before = kb.read()
    with pytest.raises(exception.CommandRejected) as caught:
        kb.propose('appliance.update', UPDATE)
    assert 'run 1 (old): upgrade sodos there first' in str(caught.value)
    # Never in the log: nothing changed.
    assert kb.read() == before
    # A batch answers it the same way, and the others still commit.
    refused, applied = kb.propose_many(
        [('appliance.update', UPDATE), ('site.leave', {'site': 'new'})]
    )
    assert 'upgrade sodos there first' in refused['error']
    assert applied['ok']

    # Commands every schema knows go on meanwhile.
    put = {'spec': SPEC, 'appliance_id': 'a' * 32}
    assert kb.propose('appliance.put', put)['ok']

    # The old site upgraded: it registers again with its schema.
    register(kb, 'old', kb_schema=commands.SCHEMA_VERSION)
    read = kb.read('appliances')['a' * 32].get('updated_at')
    assert kb.propose('appliance.update', dict(UPDATE, updated_at=read))['ok']
