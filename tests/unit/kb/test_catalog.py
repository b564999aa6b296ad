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

"""site.catalog: checked, written only by the site itself, and listed."""

import pytest

from sodos import exception
from sodos.kb import catalog
from sodos.kb import commands
from sodos.kb import state


def endpoint(**changes):
    entry = {
        'service_type': 'image',
        'service_name': 'glance',
        'interface': 'public',
        'region': 'RegionA',
        'url': 'http://a.example:9292',
    }
    entry.update(changes)
    return entry


def cmd(args, origin='a', ts=100.0):
    return commands.make('site.catalog', args, origin, now=ts).to_wire()


@pytest.fixture
def kb():
    kb = state.KnowledgeState()
    for site, address in (('a', 'h:1'), ('b', 'h:2')):
        kb.apply(
            commands.make(
                'site.register', {'site': site, 'address': address}, site
            ).to_wire()
        )
    return kb


def test_a_site_publishes_its_catalog_once(kb):
    args = {'site': 'a', 'endpoints': [endpoint()]}
    assert kb.apply(cmd(args)) == {'ok': True, 'changed': True}
    assert kb.read('catalog') == {
        'a': {'endpoints': [endpoint()], 'updated_at': 100.0}
    }
    # The same catalog again keeps the first time it was published.
    assert kb.apply(cmd(args, ts=200.0)) == {'ok': True, 'changed': False}
    assert kb.read('catalog')['a']['updated_at'] == 100.0
    changed = {'site': 'a', 'endpoints': [endpoint(url='https://a:9292')]}
    assert kb.apply(cmd(changed, ts=300.0))['changed'] is True
    assert kb.read('catalog')['a'] == {
        'endpoints': [endpoint(url='https://a:9292')],
        'updated_at': 300.0,
    }


def test_only_the_site_itself_writes_its_catalog(kb):
    result = kb.apply(cmd({'site': 'b', 'endpoints': []}, origin='a'))
    assert result == {
        'ok': False,
        'error': 'site a cannot write the catalog of site b',
    }
    result = kb.apply(cmd({'site': 'c', 'endpoints': []}, origin='c'))
    assert result == {'ok': False, 'error': "unknown site 'c'"}
    assert kb.read('catalog') == {}


@pytest.mark.parametrize(
    ('bad', 'where'),
    [
        (endpoint(interface='private'), 'interface'),
        (endpoint(url='ftp://a.example/'), 'url'),
        (endpoint(url='http://' + 'a' * 1100), 'url'),
        (endpoint(service_type=''), 'service_type'),
        (endpoint(region='r' * 256), 'region'),
        (dict(endpoint(), extra='x'), 'must not contain'),
        ({'service_type': 'image'}, 'must contain'),
    ],
)
def test_a_malformed_endpoint_is_refused_by_the_proposer(kb, bad, where):
    with pytest.raises(exception.InvalidCommand, match=where):
        cmd({'site': 'a', 'endpoints': [bad]})
    assert kb.read('catalog') == {}


def test_a_catalog_is_bounded():
    many = [endpoint(url='http://a.example:%d' % i) for i in range(501)]
    with pytest.raises(exception.InvalidCommand, match='endpoints'):
        cmd({'site': 'a', 'endpoints': many})


def test_rows_skip_the_sites_that_left_and_filter():
    catalog_section = {
        'b': {
            'endpoints': [
                endpoint(region='RegionB', interface='internal'),
                endpoint(region='RegionB', service_type='compute'),
            ],
            'updated_at': 5.0,
        },
        'a': {'endpoints': [endpoint()], 'updated_at': 4.0},
        'gone': {'endpoints': [endpoint(region='RegionG')], 'updated_at': 1.0},
    }
    sites = {'a': {'status': 'up'}, 'b': {'status': 'down'}}
    sites['gone'] = {'status': 'left'}
    rows = catalog.rows(catalog_section, sites)
    assert [
        (r['site'], r['region'], r['service_type'], r['interface'])
        for r in rows
    ] == [
        ('a', 'RegionA', 'image', 'public'),
        ('b', 'RegionB', 'compute', 'public'),
        ('b', 'RegionB', 'image', 'internal'),
    ]
    assert rows[0] == dict(endpoint(), site='a', updated_at=4.0)
    assert catalog.rows(
        catalog_section, sites, region='RegionB', service_type='image'
    ) == [
        dict(
            endpoint(region='RegionB', interface='internal'),
            site='b',
            updated_at=5.0,
        )
    ]
    assert catalog.rows(catalog_section, sites, site='gone') == []
