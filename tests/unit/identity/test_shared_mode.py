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

"""Exec's identity loop in ``[identity]mode = shared``: the simulated
Keystone with the global ids, and the choice of writer."""

import pytest

from sodos import exception
from sodos.exec.drivers.openstack.keystone_db import writer as db_writer
from sodos.exec.drivers.simulator import identity as simulator_identity
from sodos.exec.identity import sync as identity_sync
from sodos.identity import model
from tests.unit import helpers
from tests.unit.identity.conftest import SECRET


@pytest.fixture
def shared(api, conf):
    conf.set_override('secret', SECRET, 'identity')
    conf.set_override('mode', 'shared', 'identity')
    made = identity_sync.make(conf, helpers.site_driver(conf), lambda: api)
    assert made is not None
    return made


def _setup(ident):
    ident.put('projects', 'p1', description='first')
    ident.put('users', 'alice', password='s3cret!', email='a@example.org')
    ident.put('groups', 'ops')
    ident.membership('ops', 'alice')
    ident.assignment('member', ('user', 'alice'), ('project', 'p1'))


def test_the_simulator_plays_keystone_with_the_global_ids(shared):
    assert isinstance(shared.writer, simulator_identity.SimulatedKeystone)
    assert shared.writer.same_ids and shared.same_ids


def test_every_object_has_its_global_id_and_the_map_says_so(
    ident, shared, api
):
    _setup(ident)
    line = shared.run_once()
    assert '5 change(s)' in line
    ks = shared.writer
    gids = {
        kind: ident.lookup(kind, name)[0]
        for kind, name in (
            ('projects', 'p1'),
            ('users', 'alice'),
            ('groups', 'ops'),
        )
    }
    for kind, gid in gids.items():
        assert gid in ks.store[kind]
        assert ks.store[kind][gid][model.MARKER] == gid
    assert (
        'member',
        'user',
        gids['users'],
        'project',
        gids['projects'],
    ) in ks.assignments
    assert (gids['groups'], gids['users']) in ks.members
    idmap = api.read('identity')['idmap']['here']
    assert idmap == {kind: {gid: gid} for kind, gid in gids.items()}
    assert ks.authenticate('alice', 'default', 's3cret!')


def test_a_password_changed_by_hand_is_repaired_as_drift(ident, shared, api):
    _setup(ident)
    shared.run_once()
    ks = shared.writer
    uid = ks.find('users', 'alice')
    ks.set_password(uid, 'handmade')
    assert ks.authenticate('alice', 'default', 'handmade')
    line = shared.run_once(force=True)
    assert '1 drift repair(s)' in line
    assert ks.authenticate('alice', 'default', 's3cret!')
    assert not ks.authenticate('alice', 'default', 'handmade')
    (alert,) = api.read('alerts').values()
    assert 'alice' in alert['message'] and 'password v1' in alert['message']
    # Repaired: the next pass finds nothing to do.
    assert shared.run_once(force=True).endswith(': 0 change(s)')


def test_the_api_mode_cannot_see_a_password_changed_by_hand(ident, sync):
    _setup(ident)
    sync.run_once()
    ks = sync.writer
    ks.set_password(ks.find('users', 'alice'), 'handmade')
    line = sync.run_once(force=True)
    assert '0 change(s)' in line
    assert ks.authenticate('alice', 'default', 'handmade')


def test_an_object_held_under_another_id_is_a_conflict(ident, shared, api):
    ks = shared.writer
    lid = ks.create('projects', name='p1', domain_id='default', enabled=True)
    _setup(ident)
    line = shared.run_once()
    gid = ident.lookup('projects', 'p1')[0]
    assert 'failed (project p1 has the id %s at this site' % lid in line
    # Left alone, not linked, not mapped.
    assert model.MARKER not in ks.store['projects'][lid]
    assert gid not in ks.store['projects']
    assert not [a for a in ks.assignments if a[4] == lid]
    assert gid not in api.read('identity')['idmap']['here'].get('projects', {})
    # The operator removes the site's one: the federation's is made.
    ks.delete('projects', lid)
    shared.run_once()
    assert ks.store['projects'][gid][model.MARKER] == gid
    uid = ident.lookup('users', 'alice')[0]
    assert ('member', 'user', uid, 'project', gid) in ks.assignments


def test_openstack_shared_mode_makes_the_database_writer(conf, tmp_path):
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('driver', 'openstack', 'exec')
    url = 'sqlite:///%s' % (tmp_path / 'keystone.db')
    conf.set_override('keystone_database_connection', url, 'identity')
    made = identity_sync.make(conf, helpers.site_driver(conf), lambda: None)
    assert isinstance(made.writer, db_writer.KeystoneDBWriter)
    assert made.same_ids
    made.writer.close()


def test_an_unusable_database_url_is_a_config_error(conf):
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('driver', 'openstack', 'exec')
    conf.set_override(
        'keystone_database_connection',
        'nosuchdialect://keystone:hunter2@db/keystone',
        'identity',
    )
    with pytest.raises(exception.ConfigError) as refused:
        identity_sync.make(conf, helpers.site_driver(conf), lambda: None)
    text = str(refused.value)
    assert '[identity]keystone_database_connection' in text
    assert 'hunter2' not in text
