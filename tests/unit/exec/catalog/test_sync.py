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

"""Exec's catalog loop against a simulated Keystone and the real KB."""

import pytest

from sodos.exec import role as exec_role
from sodos.exec.catalog import plan as catalog_plan
from sodos.exec.catalog import sync as catalog_sync
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import catalog as simulator_catalog
from sodos.kb import commands
from tests.unit import helpers
from tests.unit.helpers import Wrapped


def other_site(knowmon, name):
    """Site ``name`` joins and publishes its simulated catalog."""
    backend = knowmon.backend
    assert backend.propose(
        'site.register', {'site': name, 'address': '%s:1' % name}
    )['ok']
    entries, _ = catalog_plan.own_entries(
        simulator_catalog.SimulatedCatalog(name).snapshot()
    )
    made = commands.make(
        'site.catalog', {'site': name, 'endpoints': entries}, name
    )
    assert backend.submit(made)['ok']


def marked(keystone):
    return sorted(
        r.id
        for r in keystone.regions()
        if catalog_plan.marked_site(r.description)
    )


@pytest.fixture
def keystone():
    return simulator_catalog.SimulatedCatalog('here')


@pytest.fixture
def loop(conf, api, keystone):
    return catalog_sync.CatalogSync(conf, keystone, lambda: api)


def test_publishes_its_catalog_once(loop, api, keystone):
    line = loop.run_once()
    assert 'own catalog published (8 endpoint(s), region(s) here)' in line
    published = api.read('catalog')['here']
    expected, _ = catalog_plan.own_entries(keystone.snapshot())
    assert published['endpoints'] == expected
    # Read again, found the same: nothing committed.
    line = loop.run_once(force=True)
    assert 'own catalog unchanged' in line
    assert api.read('catalog')['here'] == published
    # Nothing due: the Keystone is not even read.
    calls = keystone.calls
    assert loop.run_once() == line
    assert keystone.calls == calls


def test_a_catalog_changed_at_the_site_is_published_again(loop, api, keystone):
    loop.run_once()
    keystone.add_endpoint('svc-image', 'admin', 'here', 'http://adm:9292')
    line = loop.run_once(force=True)
    assert 'own catalog published (9 endpoint(s)' in line
    assert len(api.read('catalog')['here']['endpoints']) == 9


def test_an_unregistered_site_tries_again_soon(conf, api, keystone):
    conf.set_override('site_name', 'newcomer')
    loop = catalog_sync.CatalogSync(conf, keystone, lambda: api)
    line = loop.run_once()
    assert 'own catalog not published: site.catalog refused: unknown site' in (
        line
    )
    assert loop.interval() == catalog_sync.RETRY_INTERVAL
    api.submit(
        commands.make(
            'site.register', {'site': 'newcomer', 'address': 'n:1'}, 'newcomer'
        ).to_wire()
    )
    # Sent again as read, the Keystone not read again.
    calls = keystone.calls
    assert 'own catalog published' in loop.run_once()
    assert keystone.calls == calls
    assert api.read('catalog')['newcomer']['endpoints']
    assert loop.interval() == catalog_sync.LOOK_INTERVAL


def test_a_site_api_down_publishes_nothing(conf, loop, api):
    conf.set_override('api_down', True, 'simulator')
    keystone = catalog_sync.make(
        conf, helpers.site_driver(conf), lambda: api
    ).store
    loop.store = keystone
    line = loop.run_once()
    assert 'own catalog not read: simulated site here: API unreachable' in line
    assert 'here' not in api.read('catalog')


def test_a_fenced_site_does_not_touch_its_keystone(conf, api, keystone):
    fenced = Wrapped(api, in_quorum=False)
    loop = catalog_sync.CatalogSync(conf, keystone, lambda: fenced)
    assert loop.run_once() == 'catalog: fenced (no quorum), not acting'
    assert keystone.calls == 0
    assert api.read('catalog') == {}


def test_lists_the_other_sites_when_asked(conf, knowmon, loop, keystone):
    conf.set_override('publish_remote_endpoints', True, 'identity')
    other_site(knowmon, 'b')
    line = loop.run_once()
    assert 'remote regions b: 5 change(s)' in line
    assert marked(keystone) == ['b']
    assert keystone.catalog()['b']['image'] == {
        'public': simulator_catalog.url('b', 'public', 9292)
    }
    # Site c joins: looked at as soon as the KB changes.
    other_site(knowmon, 'c')
    assert 'remote regions b, c: 5 change(s)' in loop.run_once()
    assert marked(keystone) == ['b', 'c']
    # Site c leaves: its region goes, with its endpoints.
    knowmon.backend.propose('site.leave', {'site': 'c'})
    assert 'remote regions b: 5 change(s)' in loop.run_once()
    assert marked(keystone) == ['b']
    assert 'c' not in keystone.catalog()


def test_turned_off_it_removes_what_it_made(conf, knowmon, loop, keystone):
    conf.set_override('publish_remote_endpoints', True, 'identity')
    other_site(knowmon, 'b')
    loop.run_once()
    assert marked(keystone) == ['b']
    conf.set_override('publish_remote_endpoints', False, 'identity')
    line = loop.run_once()
    assert 'remote regions off: 5 change(s)' in line
    assert marked(keystone) == []
    assert set(keystone.catalog()) == {'here'}
    line = loop.run_once(force=True)
    assert 'remote regions off: 0 change(s)' in line
    # Off, a change of the other sites changes nothing here: not looked at.
    other_site(knowmon, 'c')
    calls = keystone.calls
    assert loop.run_once() == line
    assert keystone.calls == calls


def test_off_it_looks_for_its_regions_when_it_reads_the_catalog(
    conf, api, keystone
):
    now = [1000.0]
    loop = catalog_sync.CatalogSync(
        conf, keystone, lambda: api, clock=lambda: now[0]
    )
    first = loop.run_once()
    assert first.endswith('; remote regions off: 0 change(s)')
    # A region sodos made in an earlier run, with the option on.
    keystone.create_region('gone', catalog_plan.mark('gone'))
    now[0] += catalog_sync.LOOK_INTERVAL
    assert loop.run_once() == first
    now[0] += catalog_sync.GATHER_INTERVAL
    line = loop.run_once()
    assert line == (
        'catalog: own catalog unchanged; remote regions off: 1 change(s)'
    )
    assert marked(keystone) == []


def test_a_failed_sync_is_retried_later_not_at_every_look(
    conf, knowmon, api, keystone
):
    conf.set_override('publish_remote_endpoints', True, 'identity')
    other_site(knowmon, 'b')
    now = [1000.0]
    refused = driver.PermanentError('You are not authorized (HTTP 403)')
    broken = Wrapped(keystone, create_region=refused)
    loop = catalog_sync.CatalogSync(
        conf, broken, lambda: api, clock=lambda: now[0]
    )
    line = loop.run_once()
    assert '0 change(s), 5 failed (create region b: You are not' in line
    # The region refused, its endpoints were not even tried: the one
    # call that reached the Keystone is the read.
    assert keystone.calls == 1
    calls = keystone.calls
    now[0] += catalog_sync.LOOK_INTERVAL
    assert loop.run_once() == line
    assert keystone.calls == calls
    now[0] += catalog_sync.REMOTE_RETRY
    loop.store = keystone  # the site's admin fixed the role
    assert 'remote regions b: 5 change(s)' in loop.run_once()
    assert marked(keystone) == ['b']


def test_off_by_default_except_in_shared_mode(conf, knowmon, loop, keystone):
    other_site(knowmon, 'b')
    assert catalog_sync.publish_remote(conf) is False
    loop.run_once()
    assert marked(keystone) == []
    conf.set_override('mode', 'shared', 'identity')
    assert catalog_sync.publish_remote(conf) is True
    conf.set_override('publish_remote_endpoints', False, 'identity')
    assert catalog_sync.publish_remote(conf) is False


def test_remove_all_cleans_a_keystone(conf, knowmon, loop, keystone):
    conf.set_override('publish_remote_endpoints', True, 'identity')
    other_site(knowmon, 'b')
    loop.run_once()
    done = catalog_sync.remove_all(keystone)
    assert done[-1] == 'delete region b' and len(done) == 5
    assert marked(keystone) == []
    assert catalog_sync.remove_all(keystone) == []


def test_the_exec_role_runs_the_loop_beside_its_cycle(conf, api):
    role = exec_role.ExecRole(conf, api)
    try:
        assert isinstance(role.catalog, catalog_sync.CatalogSync)
        assert isinstance(
            role.catalog.store, simulator_catalog.SimulatedCatalog
        )
    finally:
        role.driver.close()


def test_no_other_region_where_exec_would_not_pick_its_own(
    conf, knowmon, api, keystone
):
    conf.set_override('publish_remote_endpoints', True, 'identity')
    other_site(knowmon, 'b')
    keystone.create_region('old', catalog_plan.mark('old'))
    # As the Keystone store: Exec's clients look the site's services up
    # in this catalog, by [site_auth]region_name, which is not set.
    keystone.region_required = True
    loop = catalog_sync.CatalogSync(conf, keystone, lambda: api)
    assert 'region_name is not set' in loop.refused
    line = loop.run_once()
    assert 'remote regions off: 1 change(s)' in line
    assert marked(keystone) == []
    conf.set_override('region_name', 'here', 'site_auth')
    loop = catalog_sync.CatalogSync(conf, keystone, lambda: api)
    assert 'remote regions b: 5 change(s)' in loop.run_once()
