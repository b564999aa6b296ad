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

"""Adoption carried out by Exec's identity loop: two sites, 'here' and
'there', each with its simulated Keystone, over one in-memory KB."""

import pytest

from sodos import exception
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import identity as simulator_identity
from sodos.exec.identity import sync as identity_sync
from sodos.identity import adoption
from sodos.identity import model
from tests.unit.identity.conftest import SECRET


@pytest.fixture
def there(knowmon):
    knowmon.backend.propose(
        'site.register', {'site': 'there', 'address': 't:1'}
    )
    return 'there'


def _loop(conf, api, site, same_ids):
    keystone = simulator_identity.SimulatedKeystone(same_ids=same_ids)
    made = identity_sync.IdentitySync(conf, keystone, lambda: api)
    made.site = site
    return made


@pytest.fixture(params=[False, True], ids=['api', 'shared'])
def sites(request, conf, api, there):
    """(loop of 'here', loop of 'there'), both in one mode."""
    conf.set_override('secret', SECRET, 'identity')
    return (
        _loop(conf, api, 'here', request.param),
        _loop(conf, api, there, request.param),
    )


@pytest.fixture
def here(sites):
    return sites[0]


def hand_made(loop, kind='projects', **attrs):
    attrs.setdefault('name', 'legacy')
    attrs.setdefault('domain_id', 'default')
    return loop.writer.create(kind, **attrs)


def adoptions(api):
    return api.read('identity')['adoptions']


def answer(api, rid):
    req = adoptions(api)[rid]
    return req['state'], req['reason']


def test_a_hand_made_project_becomes_the_federations(ident, sites, api):
    here, there = sites
    lid = hand_made(here, description='by hand', enabled=True)
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    assert answer(api, rid) == ('pending', None)
    line = here.run_once()
    assert answer(api, rid) == ('done', None)
    gid, obj = ident.lookup('projects', 'legacy')
    assert obj['description'] == 'by hand' and obj['enabled'] is True
    # Shared identity: the site's id is the global id; api: a new one.
    assert (gid == lid) == here.same_ids
    assert here.writer.store['projects'][lid][model.MARKER] == gid
    assert obj['site_ids'] == {'here': lid}
    # Nothing else to do at the adopting site.
    assert line.endswith(': 0 change(s)')
    assert adoptions(api)[rid]['id'] == gid
    # The other site makes it; in shared mode with the same id.
    there.run_once()
    made = there.writer.find('projects', 'legacy')
    assert made is not None
    assert there.writer.store['projects'][made][model.MARKER] == gid
    assert (made == lid) == here.same_ids
    assert there.writer.store['projects'][made]['description'] == 'by hand'
    assert ident.lookup('projects', 'legacy')[1]['site_ids'] == {
        'here': lid,
        'there': made,
    }


def test_a_request_for_another_site_is_left_to_it(ident, sites, api):
    here, there = sites
    hand_made(here)
    rid = ident.adopt('projects', 'legacy', 'there')['id']
    here.run_once(force=True)
    assert answer(api, rid) == ('pending', None)
    there.run_once()
    state, reason = answer(api, rid)
    assert state == 'failed'
    assert reason == (
        "project 'legacy' (domain default) at site there: the site has "
        'no such project'
    )
    # Refused: nothing changed anywhere.
    assert not api.read('identity')['projects']
    assert (
        model.MARKER
        not in here.writer.store['projects'][
            here.writer.find('projects', 'legacy')
        ]
    )


def test_a_protected_name_is_refused_by_the_site(ident, here, api):
    hand_made(here, name='admin')
    rid = ident.adopt('projects', 'admin', 'here')['id']
    here.run_once()
    state, reason = answer(api, rid)
    assert state == 'failed'
    assert 'protected ([identity]protected_projects)' in reason
    assert not api.read('identity')['projects']


def test_an_object_sodos_marked_is_not_adopted(ident, here, api):
    hand_made(here, **{model.MARKER: 'f' * 32})
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    here.run_once()
    state, reason = answer(api, rid)
    assert state == 'failed'
    assert 'managed by sodos already (sodos_id %s)' % ('f' * 32) in reason


def test_a_name_the_federation_took_meanwhile_is_refused(ident, here, api):
    lid = hand_made(here)
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    gid = ident.put('projects', 'legacy')['id']
    here.run_once()
    state, reason = answer(api, rid)
    assert state == 'failed'
    assert 'has a project of that name already (id %s)' % gid in reason
    if not here.same_ids:
        # The api mode takes the site's one by name, as for any object
        # the KB names: not through this request.
        assert here.writer.store['projects'][lid][model.MARKER] == gid


def test_shared_identity_needs_an_id_every_site_can_hold(ident, conf, api):
    here = _loop(conf, api, 'here', True)
    here.writer.store['projects']['legacy-id'] = {
        'name': 'legacy',
        'domain_id': 'default',
    }
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    here.run_once()
    state, reason = answer(api, rid)
    assert state == 'failed'
    assert 'its id legacy-id is not 32 hexadecimal digits' in reason


def test_a_user_keeps_its_password_at_its_site_only(ident, sites, api):
    here, there = sites
    uid = hand_made(here, 'users', name='bob', email='bob@example.org')
    here.writer.set_password(uid, 'bobs-own')
    rid = ident.adopt('users', 'bob', 'here')['id']
    here.run_once()
    req = adoptions(api)[rid]
    assert req['state'] == 'done'
    assert 'keeps its password at site here only' in req['note']
    gid, user = ident.lookup('users', 'bob')
    assert user['email'] == 'bob@example.org'
    assert api.read('identity')['users'][gid]['password'] is None
    here.run_once(force=True)
    assert here.writer.authenticate('bob', 'default', 'bobs-own')
    there.run_once()
    assert there.writer.find('users', 'bob') is not None
    assert not there.writer.authenticate('bob', 'default', 'bobs-own')
    # A federation password, once set, is bob's everywhere.
    ident.put('users', 'bob', password='federated')
    here.run_once()
    there.run_once()
    for loop in sites:
        assert loop.writer.authenticate('bob', 'default', 'federated')


def test_roles_of_site_users_refuse_the_project(ident, here, api):
    pid = hand_made(here)
    uid = hand_made(here, 'users', name='bob')
    admin = hand_made(here, 'users', name='admin')
    here.writer.grant(('member', 'user', uid, 'project', pid))
    here.writer.grant(('admin', 'user', admin, 'project', pid))
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    here.run_once()
    state, reason = answer(api, rid)
    assert state == 'failed'
    # The protected admin does not stand in the way; bob does.
    assert 'would be revoked: member to user bob (adopt' in reason
    assert ('member', 'user', uid, 'project', pid) in here.writer.assignments


def test_adopting_the_users_first_brings_their_roles(ident, sites, api):
    here, there = sites
    pid = hand_made(here)
    uid = hand_made(here, 'users', name='bob')
    admin = hand_made(here, 'users', name='admin')
    here.writer.grant(('member', 'user', uid, 'project', pid))
    here.writer.grant(('admin', 'user', admin, 'project', pid))
    first = ident.adopt('users', 'bob', 'here')['id']
    second = ident.adopt('projects', 'legacy', 'here')['id']
    # One look answers both, oldest first.
    here.run_once()
    assert answer(api, first) == ('done', None)
    assert answer(api, second) == ('done', None)
    (link,) = api.read('identity')['assignments'].values()
    assert link['role'] == 'member'
    assert link['actor_id'] == ident.lookup('users', 'bob')[0]
    assert link['target_id'] == ident.lookup('projects', 'legacy')[0]
    # Both kept at the adopting site, the federation's at the other.
    assert ('member', 'user', uid, 'project', pid) in here.writer.assignments
    assert ('admin', 'user', admin, 'project', pid) in here.writer.assignments
    there.run_once()
    grant = (
        'member',
        'user',
        there.writer.find('users', 'bob'),
        'project',
        there.writer.find('projects', 'legacy'),
    )
    assert grant in there.writer.assignments


def test_a_group_needs_federation_members(ident, here, api):
    gid = hand_made(here, 'groups', name='ops')
    uid = hand_made(here, 'users', name='carol')
    here.writer.members.add((gid, uid))
    refused = ident.adopt('groups', 'ops', 'here')['id']
    here.run_once()
    state, reason = answer(api, refused)
    assert state == 'failed'
    assert 'members at the site would be taken out of it: carol' in reason
    ident.adopt('users', 'carol', 'here')
    again = ident.adopt('groups', 'ops', 'here')['id']
    here.run_once()
    assert answer(api, again) == ('done', None)
    (member,) = api.read('identity')['memberships'].values()
    assert member['user_id'] == ident.lookup('users', 'carol')[0]
    here.run_once(force=True)
    assert (gid, uid) in here.writer.members


def test_a_mark_that_fails_is_made_by_the_next_pass(
    ident, here, api, monkeypatch
):
    lid = hand_made(here)

    def down(kind, local_id, gid):
        raise driver.TransientError('identity API unreachable')

    monkeypatch.setattr(here.writer, 'mark', down)
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    here.run_once()
    assert answer(api, rid) == ('done', None)
    gid = ident.lookup('projects', 'legacy')[0]
    assert here.writer.store['projects'][lid][model.MARKER] == gid
    assert here.writer.find('projects', 'legacy') == lid


def test_the_site_down_leaves_the_request_pending(ident, here, api):
    hand_made(here)
    rid = ident.adopt('projects', 'legacy', 'here')['id']
    here.writer.down = True
    with pytest.raises(exception.SodosError):
        here.run_once()
    assert answer(api, rid) == ('pending', None)
    here.writer.down = False
    here.run_once()
    assert answer(api, rid) == ('done', None)


def test_a_protected_name_is_refused_before_the_request(api):
    from sodos.knowmon import identity_api

    ident = identity_api.IdentityAPI(
        api, 'here', protected={'projects': {'admin'}}
    )
    with pytest.raises(model.InvalidIdentity, match='protected'):
        ident.adopt('projects', 'admin', 'here')
    with pytest.raises(model.InvalidIdentity, match='not domains'):
        ident.adopt('domains', 'acme', 'here')
    assert not api.read('identity').get('adoptions')


@pytest.mark.parametrize('same_ids', [False, True])
def test_mark_changes_only_the_marker(same_ids):
    keystone = simulator_identity.SimulatedKeystone(same_ids=same_ids)
    lid = keystone.create('projects', name='p', domain_id='default')
    keystone.mark('projects', lid, lid)
    keystone.mark('projects', lid, lid)  # again: nothing to do
    assert keystone.store['projects'][lid] == {
        'name': 'p',
        'domain_id': 'default',
        model.MARKER: lid,
    }
    other = '0' * 32
    keystone.store['projects'][other] = {'name': 'q', model.MARKER: 'f' * 32}
    with pytest.raises(driver.PermanentError, match='not adopted again'):
        keystone.mark('projects', other, other)
    keystone.protected = {'projects': {'p'}}
    with pytest.raises(driver.PermanentError, match='protected'):
        keystone.mark('projects', lid, lid)
    with pytest.raises(driver.PermanentError, match='Could not find'):
        keystone.mark('projects', 'e' * 32, 'e' * 32)


def test_decide_copies_only_what_the_federation_can_hold():
    observed = simulator_identity.SimulatedKeystone().snapshot()
    observed.users['u1'] = {
        'name': 'bob',
        'domain_id': 'default',
        'description': 'x' * 300,
        'email': 'not an email',
        'enabled': False,
    }
    request = {
        'kind': 'users',
        'name': 'bob',
        'domain_id': 'default',
        'site': 'here',
    }
    args = adoption.decide(
        'a' * 32, request, observed, model.section({}), {}, False
    )
    assert args['outcome'] == 'done'
    assert args['attrs'] == {'enabled': False}
    assert (
        'not copied' in args['note'] and 'description, email' in args['note']
    )
