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

"""Exec's identity loop looks at the KB as soon as its identity changes."""

import threading

from sodos import roleset
from sodos.exec.identity import sync as identity_sync
from sodos.identity import crypto
from sodos.knowmon import identity_api

SECRET = 'federation identity secret'


def test_changes_of_the_desired_state_wake_the_loop(conf):
    loop = identity_sync.IdentitySync.__new__(identity_sync.IdentitySync)
    loop.site = 'here'
    put = {'type': 'identity.project.put', 'args': {}}
    assert loop.wakes_for(put, {'ok': True, 'revision': 4})
    # Put again unchanged, refused, or the ID map: no new revision.
    assert not loop.wakes_for(put, {'ok': True, 'changed': False})
    assert not loop.wakes_for(put, {'ok': False, 'error': 'taken'})
    idmap = {'type': 'identity.map', 'args': {'site': 'here'}}
    assert not loop.wakes_for(idmap, {'ok': True})
    # An adoption request is answered by the site it names.
    adopt = {'type': 'identity.adopt', 'args': {'site': 'here'}}
    assert loop.wakes_for(adopt, {'ok': True})
    adopt['args']['site'] = 'there'
    assert not loop.wakes_for(adopt, {'ok': True})


def test_a_change_reaches_the_site_before_the_sync_interval(conf, monkeypatch):
    # Every look at the KB would be 300 s apart: a pass soon after the
    # change comes from the KB member waking the loop.
    conf.set_override('sync_interval', 300.0, 'identity')
    conf.set_override('audit_interval', 3600.0, 'identity')
    conf.set_override('secret', SECRET, 'identity')
    conf.set_override('loop_interval', 300.0, 'exec')
    passed = threading.Event()
    converge_once = identity_sync.IdentitySync.converge_once

    def converge_and_tell(self, desired, fresh=True):
        try:
            return converge_once(self, desired, fresh)
        finally:
            passed.set()

    monkeypatch.setattr(
        identity_sync.IdentitySync, 'converge_once', converge_and_tell
    )
    role_set = roleset.RoleSet(conf, ['knowmon', 'exec'])
    role_set.start()
    try:
        knowmon, exec_ = role_set.roles
        assert passed.wait(10), 'no first pass at start'
        passed.clear()
        ident = identity_api.IdentityAPI(
            knowmon.api, 'here', box=crypto.PasswordBox(SECRET)
        )
        ident.put('projects', 'p1')
        assert passed.wait(10), 'the change waited for the sync interval'
        keystone = exec_.identity.writer
        assert keystone.find('projects', 'p1')
    finally:
        role_set.stop()
