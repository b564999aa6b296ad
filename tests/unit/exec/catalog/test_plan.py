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

"""What a site publishes of its catalog, and the remote regions and
endpoints its Keystone should list, applied to a simulated Keystone."""

from sodos.exec.catalog import plan as cp
from sodos.exec.drivers.simulator import catalog as simulator_catalog

UP = {'status': 'up'}


def published(site):
    """The catalog site ``site`` of the simulator publishes."""
    entries, skipped = cp.own_entries(
        simulator_catalog.SimulatedCatalog(site).snapshot()
    )
    assert skipped == []
    return {'endpoints': entries, 'updated_at': 1.0}


def public(site_catalog):
    return next(
        e for e in site_catalog['endpoints'] if e['interface'] == 'public'
    )


def sync(keystone, catalog, sites, site='here'):
    """One pass as the loop makes it; returns the ops' texts."""
    snap = keystone.snapshot()
    wanted = cp.desired(catalog, sites, site, cp.own_regions(snap))
    ops, _ = cp.plan(wanted, snap)
    for op in ops:
        op.apply(keystone)
    return [op.text for op in ops]


def test_own_entries_are_the_enabled_endpoints_outside_sodos_regions():
    snap = cp.Snapshot(
        regions=[cp.Region('R1'), cp.Region('B', cp.mark('b'))],
        services=[
            cp.Service('s1', 'image', 'glance'),
            cp.Service('s2', 'compute', 'nova', enabled=False),
            cp.Service('s3', 'identity', 'keystone'),
        ],
        endpoints=[
            cp.Endpoint('e1', 's1', 'public', 'R1', 'http://g:9292'),
            # The same endpoint twice is published once.
            cp.Endpoint('e2', 's1', 'public', 'R1', 'http://g:9292'),
            cp.Endpoint('e3', 's1', 'admin', 'R1', 'http://g:9292', False),
            cp.Endpoint('e4', 's2', 'public', 'R1', 'http://n:8774'),
            cp.Endpoint('e5', 's1', 'public', 'B', 'http://b:9292'),
            cp.Endpoint('e6', 's3', 'public', '', 'http://k:5000/v3'),
            cp.Endpoint('e7', 's3', 'internal', 'R1', 'ldap://k'),
        ],
    )
    entries, skipped = cp.own_entries(snap)
    assert entries == [
        {
            'service_type': 'identity',
            'service_name': 'keystone',
            'interface': 'public',
            'region': '',
            'url': 'http://k:5000/v3',
        },
        {
            'service_type': 'image',
            'service_name': 'glance',
            'interface': 'public',
            'region': 'R1',
            'url': 'http://g:9292',
        },
    ]
    assert len(skipped) == 1 and "'ldap://k'" in skipped[0]
    assert cp.own_regions(snap) == {'R1'}


def test_marks_name_the_site():
    assert cp.marked_site(cp.mark('site-b')) == 'site-b'
    for other in (None, '', 'RegionOne', 'made by sodos: site x'):
        assert cp.marked_site(other) is None


def test_desired_lists_the_other_members_public_endpoints():
    catalog = {
        'here': published('here'),
        'b': published('b'),
        'gone': published('gone'),
    }
    sites = {'here': UP, 'b': {'status': 'down'}, 'gone': {'status': 'left'}}
    wanted = cp.desired(catalog, sites, 'here', {'here'})
    # A site down stays listed; one that left does not.
    assert wanted.regions == {'b': 'b'}
    assert {e[3] for e in wanted.endpoints} == {'public'}
    assert sorted(e[1] for e in wanted.endpoints) == [
        'compute',
        'identity',
        'image',
        'placement',
    ]
    # A site that left lists nobody's.
    sites['here'] = {'status': 'left'}
    assert cp.desired(catalog, sites, 'here', {'here'}).regions == {}


def test_a_region_is_listed_for_one_site_and_never_over_our_own():
    entry = public(published('b'))
    catalog = {
        'b': {'endpoints': [dict(entry, region='shared')]},
        'c': {'endpoints': [dict(entry, region='shared')]},
        'd': {'endpoints': [dict(entry, region='mine')]},
    }
    sites = {name: UP for name in ('here', 'b', 'c', 'd')}
    wanted = cp.desired(catalog, sites, 'here', {'mine'})
    assert wanted.regions == {'shared': 'b'}
    assert len(wanted.endpoints) == 1
    assert any('sites b and c' in note for note in wanted.notes)
    assert any('also a region of this site' in note for note in wanted.notes)


def test_sync_creates_then_changes_nothing_then_follows_changes():
    keystone = simulator_catalog.SimulatedCatalog('here')
    before = keystone.catalog()
    catalog = {'here': published('here'), 'b': published('b')}
    sites = {'here': UP, 'b': UP}
    done = sync(keystone, catalog, sites)
    assert done[0] == 'create region b'
    assert len(done) == 5  # the region, then four public endpoints
    listed = keystone.catalog()
    assert listed['here'] == before['here']
    assert listed['b'] == {
        stype: {'public': simulator_catalog.url('b', 'public', port, path)}
        for stype, _, port, path in simulator_catalog.SERVICES
    }
    regions = {r.id: r.description for r in keystone.regions()}
    assert regions == {'here': '', 'b': 'sodos: site b'}
    # Idempotent: nothing to do the second time.
    assert sync(keystone, catalog, sites) == []
    # A URL moved at b.
    moved = [
        dict(e, url='https://glance.b.example')
        if e['service_type'] == 'image'
        else e
        for e in catalog['b']['endpoints']
    ]
    catalog['b'] = {'endpoints': moved}
    done = sync(keystone, catalog, sites)
    assert len(done) == 1 and done[0].startswith('update endpoint')
    assert keystone.catalog()['b']['image'] == {
        'public': 'https://glance.b.example'
    }


def test_a_site_that_left_is_removed_and_our_own_kept():
    keystone = simulator_catalog.SimulatedCatalog('here')
    keystone.add_endpoint('svc-image', 'public', 'Manual', 'http://m:9292')
    catalog = {'b': published('b'), 'c': published('c')}
    sites = {'here': UP, 'b': UP, 'c': UP}
    sync(keystone, catalog, sites)
    assert set(keystone.catalog()) == {'here', 'Manual', 'b', 'c'}
    sites['c'] = {'status': 'left'}
    done = sync(keystone, catalog, sites)
    assert done[-1] == 'delete region c'
    assert sum(t.startswith('delete endpoint') for t in done) == 4
    assert set(keystone.catalog()) == {'here', 'Manual', 'b'}
    assert {r.id for r in keystone.regions()} == {'here', 'Manual', 'b'}


def test_hand_edits_in_a_sodos_region_are_repaired():
    keystone = simulator_catalog.SimulatedCatalog('here')
    catalog = {'b': published('b')}
    sites = {'here': UP, 'b': UP}
    sync(keystone, catalog, sites)
    snap = keystone.snapshot()
    image_b = next(
        e
        for e in snap.endpoints
        if e.region == 'b' and e.service_id == 'svc-image'
    )
    keystone.set_enabled(image_b.id, False)
    keystone.add_endpoint('svc-image', 'public', 'b', 'http://extra:1')
    done = sync(keystone, catalog, sites)
    assert sorted(t.split(' ')[0] for t in done) == ['delete', 'update']
    assert keystone.catalog()['b']['image'] == {
        'public': simulator_catalog.url('b', 'public', 9292)
    }
    assert sync(keystone, catalog, sites) == []


def test_remote_services_without_a_local_service_are_not_listed():
    entry = public(published('b'))
    catalog = {
        'b': {
            'endpoints': [
                dict(entry, service_type='volumev3', region='b'),
                dict(entry, service_type='image', region='b'),
            ]
        }
    }
    snap = simulator_catalog.SimulatedCatalog('here').snapshot()
    wanted = cp.desired(catalog, {'here': UP, 'b': UP}, 'here', {'here'})
    ops, unlisted = cp.plan(wanted, snap)
    assert unlisted == ['no volumev3 service here for region b']
    assert [op.action for op in ops] == ['create_region', 'create_endpoint']


def test_the_service_of_the_same_name_is_preferred():
    snap = cp.Snapshot(
        regions=[cp.Region('here')],
        services=[
            cp.Service('a1', 'image', 'other-glance'),
            cp.Service('a2', 'image', 'glance'),
        ],
        endpoints=[],
    )
    wanted = cp.Desired(
        regions={'b': 'b'},
        endpoints=[('b', 'image', 'glance', 'public', 'http://b:9292')],
    )
    ops, _ = cp.plan(wanted, snap)
    assert ops[1].args == ('a2', 'public', 'b', 'http://b:9292')


def test_nothing_wanted_removes_only_what_sodos_made():
    keystone = simulator_catalog.SimulatedCatalog('here')
    keystone.add_endpoint('svc-image', 'public', 'Manual', 'http://m:9292')
    sync(keystone, {'b': published('b')}, {'here': UP, 'b': UP})
    ops, _ = cp.plan(cp.Desired(), keystone.snapshot())
    for op in ops:
        op.apply(keystone)
    assert {r.id for r in keystone.regions()} == {'here', 'Manual'}
    assert set(keystone.catalog()) == {'here', 'Manual'}


def test_fingerprint_follows_only_what_the_plan_depends_on():
    catalog = {'here': published('here'), 'b': published('b')}
    sites = {'here': UP, 'b': UP}
    first = cp.fingerprint(catalog, sites, 'here', True)
    # This site's own catalog does not change what it lists.
    other = dict(catalog, here={'endpoints': [], 'updated_at': 9.0})
    assert cp.fingerprint(other, sites, 'here', True) == first
    assert cp.fingerprint(catalog, sites, 'here', False) != first
    left = dict(sites, b={'status': 'left'})
    assert cp.fingerprint(catalog, left, 'here', True) != first
