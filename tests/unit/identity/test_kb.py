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

"""The identity commands of the KB: validation and appliers."""

import pytest

from sodos import exception
from sodos.kb import commands
from sodos.kb import state

GID = '1' * 32


def apply(st, type_, args, origin='here'):
    return st.apply(commands.make(type_, args, origin).to_wire())


@pytest.fixture
def st():
    st = state.KnowledgeState()
    apply(st, 'site.register', {'site': 'here', 'address': 'h:1'})
    return st


def test_identity_is_a_kb_section():
    assert 'identity' in state.SECTIONS
    assert state.empty()['identity'] == {}


def test_put_is_idempotent_and_bumps_the_revision_on_change(st):
    args = {'project_id': GID, 'name': 'p1', 'domain_id': 'default'}
    first = apply(st, 'identity.project.put', args)
    assert first['created'] and first['revision'] == 1
    again = apply(st, 'identity.project.put', args)
    assert again == {'ok': True, 'created': False, 'changed': False}
    changed = apply(st, 'identity.project.put', dict(args, enabled=False))
    assert changed['revision'] == 2
    assert st.data['identity']['projects'][GID]['enabled'] is False


def test_a_taken_name_is_refused(st):
    apply(
        st,
        'identity.user.put',
        {'user_id': GID, 'name': 'bob', 'domain_id': 'default'},
    )
    result = apply(
        st,
        'identity.user.put',
        {'user_id': '2' * 32, 'name': 'bob', 'domain_id': 'default'},
    )
    assert not result['ok']
    assert "user 'bob' already exists" in result['error']
    assert list(st.data['identity']['users']) == [GID]


def test_unknown_references_are_refused(st):
    result = apply(
        st,
        'identity.project.put',
        {'project_id': GID, 'name': 'p', 'domain_id': '9' * 32},
    )
    assert result == {'ok': False, 'error': 'unknown domain ' + '9' * 32}
    result = apply(
        st,
        'identity.assignment.put',
        {
            'role': 'member',
            'actor_type': 'user',
            'actor_id': GID,
            'target_type': 'project',
            'target_id': '3' * 32,
        },
    )
    assert result['error'] == 'unknown user ' + GID


@pytest.mark.parametrize(
    'name', ['', ' lead', 'trail ', 'a/b', 'x' * 65, 'tab\there']
)
def test_bad_names_are_refused_before_the_log(name):
    with pytest.raises(exception.InvalidCommand, match='name'):
        commands.make(
            'identity.project.put',
            {'project_id': GID, 'name': name, 'domain_id': 'default'},
            'here',
        )


def test_a_new_password_gets_the_next_version(st, box):
    args = {'user_id': GID, 'name': 'bob', 'domain_id': 'default'}
    apply(st, 'identity.user.put', dict(args, password=box.encrypt('a')))
    apply(st, 'identity.user.put', dict(args, description='kept password'))
    user = st.data['identity']['users'][GID]
    assert user['password']['version'] == 1
    apply(st, 'identity.user.put', dict(args, password=box.encrypt('b')))
    user = st.data['identity']['users'][GID]
    assert user['password']['version'] == 2
    assert box.decrypt(user['password']) == 'b'


def test_a_password_records_when_the_federation_set_it(st, box):
    args = {'user_id': GID, 'name': 'bob', 'domain_id': 'default'}
    wire = commands.make(
        'identity.user.put', dict(args, password=box.encrypt('a')), 'here'
    ).to_wire()
    st.apply(wire)
    assert (
        st.data['identity']['users'][GID]['password']['set_at'] == wire['ts']
    )
    # Kept as it was when a put changes something else.
    apply(st, 'identity.user.put', dict(args, description='d'))
    assert (
        st.data['identity']['users'][GID]['password']['set_at'] == wire['ts']
    )


def _user_in_project(st):
    apply(
        st,
        'identity.project.put',
        {'project_id': '3' * 32, 'name': 'p', 'domain_id': 'default'},
    )
    apply(
        st,
        'identity.user.put',
        {'user_id': GID, 'name': 'bob', 'domain_id': 'default'},
    )
    apply(
        st,
        'identity.group.put',
        {'group_id': '4' * 32, 'name': 'g', 'domain_id': 'default'},
    )
    apply(
        st, 'identity.membership.put', {'group_id': '4' * 32, 'user_id': GID}
    )
    link = {
        'role': 'member',
        'actor_type': 'user',
        'actor_id': GID,
        'target_type': 'project',
        'target_id': '3' * 32,
    }
    assert apply(st, 'identity.assignment.put', link)['created']
    assert not apply(st, 'identity.assignment.put', link)['created']
    return link


def test_deleting_a_user_deletes_its_links(st):
    _user_in_project(st)
    result = apply(st, 'identity.user.delete', {'user_id': GID})
    assert result['deleted'] and result['cascaded'] == 2
    ident = st.data['identity']
    assert ident['assignments'] == {} and ident['memberships'] == {}
    again = apply(st, 'identity.user.delete', {'user_id': GID})
    assert again == {'ok': True, 'deleted': False}


def test_a_domain_that_holds_objects_is_not_deleted(st):
    dom = '5' * 32
    apply(st, 'identity.domain.put', {'domain_id': dom, 'name': 'fed'})
    apply(
        st,
        'identity.project.put',
        {'project_id': GID, 'name': 'p', 'domain_id': dom},
    )
    result = apply(st, 'identity.domain.delete', {'domain_id': dom})
    assert result == {
        'ok': False,
        'error': 'domain fed still holds 1 projects: delete them first',
    }
    apply(st, 'identity.project.delete', {'project_id': GID})
    assert apply(st, 'identity.domain.delete', {'domain_id': dom})['deleted']


def test_a_site_writes_its_own_id_map_only(st):
    _user_in_project(st)
    entry = {'kind': 'users', 'id': GID, 'local_id': 'abc'}
    args = {'site': 'here', 'set': [entry]}
    revision = st.data['identity']['revision']
    assert apply(st, 'identity.map', args)['ok']
    assert st.data['identity']['idmap'] == {'here': {'users': {GID: 'abc'}}}
    assert st.data['identity']['revision'] == revision
    refused = apply(st, 'identity.map', args, origin='elsewhere')
    assert 'cannot write the ID map of site here' in refused['error']
    drop = {'site': 'here', 'drop': [{'kind': 'users', 'id': GID}]}
    apply(st, 'identity.map', drop)
    assert st.data['identity']['idmap'] == {'here': {'users': {}}}
