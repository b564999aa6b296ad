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

"""Exec's identity loop against a simulated Keystone and the real KB."""

import pytest

from sodos import exception
from sodos.exec.identity import sync as identity_sync
from sodos.identity import model
from tests.unit import helpers


def _setup(ident):
    ident.put('projects', 'p1', description='first')
    ident.put('users', 'alice', password='s3cret!', email='a@example.org')
    ident.assignment('member', ('user', 'alice'), ('project', 'p1'))


def test_pass_creates_everything_and_fills_the_id_map(ident, sync, api):
    _setup(ident)
    line = sync.run_once()
    assert 'identity: pass (KB revision 3): 3 change(s)' in line
    ks = sync.writer
    assert ks.authenticate('alice', 'default', 's3cret!')
    assert not ks.authenticate('alice', 'default', 'wrong')
    pid, uid = ks.find('projects', 'p1'), ks.find('users', 'alice')
    assert ('member', 'user', uid, 'project', pid) in ks.assignments
    assert ks.store['projects'][pid][model.MARKER]
    idmap = api.read('identity')['idmap']['here']
    gid_p = ident.lookup('projects', 'p1')[0]
    gid_u = ident.lookup('users', 'alice')[0]
    assert idmap == {'projects': {gid_p: pid}, 'users': {gid_u: uid}}
    assert ident.lookup('users', 'alice')[1]['site_ids'] == {'here': uid}
    # Nothing changed in the KB: no second pass.
    calls = ks.calls
    assert sync.run_once() == line
    assert ks.calls == calls


def test_password_reset_only_when_its_version_changes(ident, sync):
    _setup(ident)
    sync.run_once()
    ks = sync.writer
    uid = ks.find('users', 'alice')
    assert ks.store['users'][uid][model.PASSWORD_VERSION] == 1
    ident.put('users', 'alice', description='now described')
    line = sync.run_once(force=True)
    assert 'password' not in line and '1 change(s)' in line
    assert ks.store['users'][uid][model.PASSWORD_VERSION] == 1
    ident.put('users', 'alice', password='n3w')
    sync.run_once()
    assert ks.store['users'][uid][model.PASSWORD_VERSION] == 2
    assert ks.authenticate('alice', 'default', 'n3w')


def test_deleting_a_user_in_the_kb_deletes_it_at_the_site(ident, sync, api):
    _setup(ident)
    sync.run_once()
    ident.delete('users', 'alice')
    line = sync.run_once()
    ks = sync.writer
    assert ks.find('users', 'alice') is None
    assert not ks.assignments
    assert (
        'users' not in api.read('identity')['idmap']['here']
        or not (api.read('identity')['idmap']['here']['users'])
    )
    # The assignment went with the user in the KB: revoked, then the
    # user deleted, and neither is drift.
    assert line.endswith(': 2 change(s)')


def test_hand_edits_are_repaired_and_alerted(ident, sync, api):
    _setup(ident)
    sync.run_once()
    ks = sync.writer
    uid, pid = ks.find('users', 'alice'), ks.find('projects', 'p1')
    ks.update('users', uid, enabled=False)
    ks.revoke(('member', 'user', uid, 'project', pid))
    intruder = ks.create('users', name='mallory', domain_id='default')
    ks.grant(('admin', 'user', intruder, 'project', pid))
    admin = ks.create('users', name='admin', domain_id='default')
    ks.grant(('admin', 'user', admin, 'project', pid))
    line = sync.run_once(force=True)
    assert '3 drift repair(s)' in line
    assert ks.store['users'][uid]['enabled'] is True
    assert ('member', 'user', uid, 'project', pid) in ks.assignments
    assert ('admin', 'user', intruder, 'project', pid) not in ks.assignments
    # Protected and unmanaged objects are left alone.
    assert ('admin', 'user', admin, 'project', pid) in ks.assignments
    assert intruder in ks.store['users']
    (alert,) = api.read('alerts').values()
    assert alert['kind'] == identity_sync.ALERT_KIND
    assert alert['site'] == 'here'
    assert 'enabled' in alert['message']
    assert 'mallory' in alert['message']


def test_a_project_deleted_by_hand_is_rebuilt_with_a_new_id(ident, sync, api):
    _setup(ident)
    sync.run_once()
    ks = sync.writer
    old = ks.find('projects', 'p1')
    ks.delete('projects', old)
    sync.run_once(force=True)
    new = ks.find('projects', 'p1')
    assert new and new != old
    uid = ks.find('users', 'alice')
    assert ('member', 'user', uid, 'project', new) in ks.assignments
    gid = ident.lookup('projects', 'p1')[0]
    assert api.read('identity')['idmap']['here']['projects'][gid] == new
    assert len(api.read('alerts')) == 1


def test_kb_changes_are_not_drift(ident, sync, api):
    _setup(ident)
    sync.run_once()
    ident.put('users', 'alice', enabled=False)
    ident.assignment('member', ('user', 'alice'), ('project', 'p1'), add=False)
    line = sync.run_once()
    assert 'drift' not in line
    assert api.read('alerts') == {}
    ks = sync.writer
    assert ks.store['users'][ks.find('users', 'alice')]['enabled'] is False
    assert not ks.assignments


def test_unmanaged_and_protected_objects_are_left_alone(ident, sync):
    ks = sync.writer
    local = ks.create('projects', name='local', domain_id='default')
    svc = ks.create('projects', name='service', domain_id='default')
    ident.put('projects', 'p1')
    sync.run_once()
    assert local in ks.store['projects'] and svc in ks.store['projects']
    assert model.MARKER not in ks.store['projects'][local]


def test_an_existing_object_of_the_same_name_is_adopted(ident, sync):
    ks = sync.writer
    lid = ks.create('users', name='bob', domain_id='default', enabled=True)
    ident.put('users', 'bob', password='pw')
    sync.run_once()
    assert ks.find('users', 'bob') == lid
    assert ks.store['users'][lid][model.MARKER]
    assert ks.authenticate('bob', 'default', 'pw')


def test_domains_keep_their_global_id_and_groups_their_members(ident, sync):
    dom = ident.put('domains', 'fed', description='federated')['id']
    ident.put('groups', 'ops', domain='fed')
    ident.put('users', 'carol', domain='fed')
    ident.membership('ops', 'carol', domain='fed')
    ident.assignment(
        'reader', ('group', 'ops'), ('domain', 'fed'), domain='fed'
    )
    sync.run_once()
    ks = sync.writer
    assert ks.store['domains'][dom]['name'] == 'fed'
    gid, uid = ks.find('groups', 'ops'), ks.find('users', 'carol')
    assert (gid, uid) in ks.members
    assert ('reader', 'group', gid, 'domain', dom) in ks.assignments
    ident.membership('ops', 'carol', domain='fed', add=False)
    ident.delete('groups', 'ops', domain='fed')
    ident.delete('users', 'carol', domain='fed')
    ident.delete('domains', 'fed')
    sync.run_once()
    assert dom not in ks.store['domains']
    assert not ks.members and not ks.assignments


def test_a_wrong_secret_fails_the_password_not_the_pass(ident, sync, conf):
    conf.set_override('secret', 'another secret', 'identity')
    _setup(ident)
    line = sync.run_once()
    assert '1 failed' in line and 'another [identity]secret' in line
    ks = sync.writer
    uid = ks.find('users', 'alice')
    assert uid and not ks.authenticate('alice', 'default', 's3cret!')
    assert ks.assignments  # the rest was done
    # Failed passes are retried without waiting for a KB change.
    conf.set_override('secret', 'federation identity secret', 'identity')
    sync.run_once()
    assert ks.authenticate('alice', 'default', 's3cret!')


def test_a_site_api_down_fails_the_pass_and_it_is_retried(ident, sync):
    _setup(ident)
    sync.writer.down = True
    with pytest.raises(exception.SodosError):
        sync.run_once()
    sync.writer.down = False
    sync.run_once()
    assert sync.writer.find('users', 'alice')


def test_no_pass_without_quorum(ident, sync, api):
    _setup(ident)
    sync._knowmon = lambda: _NoQuorum(api)
    assert 'fenced' in sync.run_once()
    assert sync.writer.find('users', 'alice') is None


class _NoQuorum:
    def __init__(self, api):
        self.api = api

    def in_quorum(self):
        return False


def test_shared_mode_needs_the_keystone_database(conf):
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('driver', 'openstack', 'exec')
    with pytest.raises(
        exception.ConfigError,
        match=r'\[identity\]keystone_database_connection',
    ):
        identity_sync.make(conf, helpers.site_driver(conf), lambda: None)


def test_off_mode_makes_no_loop(conf):
    conf.set_override('mode', 'off', 'identity')
    assert (
        identity_sync.make(conf, helpers.site_driver(conf), lambda: None)
        is None
    )


def test_exec_runs_the_loop_on_the_simulator_driver(conf, api):
    from sodos.exec import role as exec_role
    from sodos.exec.drivers.simulator import identity as simulator_identity

    role = exec_role.ExecRole(conf, api)
    try:
        assert isinstance(
            role.identity.writer, simulator_identity.SimulatedKeystone
        )
    finally:
        role.driver.close()


def test_a_large_id_map_is_written_in_chunks(ident, sync, api, monkeypatch):
    monkeypatch.setattr(identity_sync, 'MAP_CHUNK', 2)
    for n in range(5):
        ident.put('projects', 'p%d' % n)
    sync.run_once()
    assert len(api.read('identity')['idmap']['here']['projects']) == 5
