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

"""The adoption commands of the KB: requests, answers, validation."""

import pytest

from sodos import exception
from sodos.identity import adoption
from sodos.kb import commands
from sodos.kb import state

RID = 'a' * 32
GID = '1' * 32
USER = '2' * 32


def apply(st, type_, args, origin='here'):
    return st.apply(commands.make(type_, args, origin).to_wire())


def request(rid=RID, **extra):
    args = {
        'request_id': rid,
        'kind': 'projects',
        'name': 'legacy',
        'domain_id': 'default',
        'site': 'there',
        'requested_by': 'admin',
    }
    args.update(extra)
    return args


def done(rid=RID, **extra):
    args = {
        'request_id': rid,
        'outcome': 'done',
        'id': GID,
        'local_id': 'site-own-id',
        'attrs': {'description': 'made by hand', 'enabled': False},
    }
    args.update(extra)
    return args


@pytest.fixture
def st():
    st = state.KnowledgeState()
    for site in ('here', 'there'):
        apply(st, 'site.register', {'site': site, 'address': site + ':1'})
    return st


def ident(st):
    return st.data['identity']


def test_a_request_waits_for_its_site_and_changes_no_revision(st):
    result = apply(st, 'identity.adopt', request())
    assert result == {'ok': True, 'created': True}
    req = ident(st)['adoptions'][RID]
    assert req['state'] == 'pending'
    assert (req['kind'], req['name'], req['site']) == (
        'projects',
        'legacy',
        'there',
    )
    assert req['requested_by'] == 'admin'
    assert ident(st)['revision'] == 0
    assert adoption.pending(ident(st), 'there') == [(RID, req)]
    assert adoption.pending(ident(st), 'here') == []
    # The same request again is not a second one.
    again = apply(st, 'identity.adopt', request(name='other'))
    assert again == {'ok': True, 'created': False}
    assert ident(st)['adoptions'][RID]['name'] == 'legacy'


@pytest.mark.parametrize(
    'change, error',
    [
        ({'site': 'nowhere'}, "unknown site 'nowhere'"),
        ({'domain_id': '9' * 32}, 'unknown domain ' + '9' * 32),
    ],
)
def test_bad_requests_are_refused(st, change, error):
    result = apply(st, 'identity.adopt', request(**change))
    assert result == {'ok': False, 'error': error}
    assert not ident(st)['adoptions']


def test_a_site_that_left_cannot_adopt(st):
    apply(st, 'site.leave', {'site': 'there'})
    result = apply(st, 'identity.adopt', request())
    assert result['error'] == 'site there has left the federation'


def test_a_name_the_federation_holds_is_refused(st):
    apply(
        st,
        'identity.project.put',
        {'project_id': GID, 'name': 'legacy', 'domain_id': 'default'},
    )
    result = apply(st, 'identity.adopt', request())
    assert not result['ok']
    assert 'already (id %s)' % GID in result['error']
    assert not ident(st)['adoptions']


@pytest.mark.parametrize(
    'args',
    [
        request(kind='domains'),
        request(request_id='not-hex'),
        request(name='a/b'),
        done(outcome='maybe'),
        done(local_id='has space'),
        done(attrs={'password': 'x'}),
    ],
)
def test_malformed_commands_never_reach_the_log(args):
    type_ = 'identity.adopt' if 'kind' in args else 'identity.adoption.finish'
    with pytest.raises(exception.InvalidCommand):
        commands.make(type_, args, 'here')


def test_done_puts_the_object_and_its_id_map_entry_at_once(st):
    apply(st, 'identity.adopt', request())
    result = apply(
        st, 'identity.adoption.finish', done(note='a note'), origin='there'
    )
    assert result['ok'] and result['state'] == 'done'
    assert (result['id'], result['local_id']) == (GID, 'site-own-id')
    assert result['revision'] == ident(st)['revision'] == 1
    obj = ident(st)['projects'][GID]
    assert obj['name'] == 'legacy' and obj['domain_id'] == 'default'
    assert obj['description'] == 'made by hand'
    assert obj['enabled'] is False
    assert ident(st)['idmap']['there'] == {'projects': {GID: 'site-own-id'}}
    req = ident(st)['adoptions'][RID]
    assert (req['state'], req['id'], req['note']) == ('done', GID, 'a note')
    assert req['finished_at'] is not None
    assert adoption.pending(ident(st), 'there') == []


def test_a_user_is_adopted_without_a_password(st):
    apply(st, 'identity.adopt', request(kind='users', name='bob'))
    args = done(attrs={'email': 'bob@example.org'})
    apply(st, 'identity.adoption.finish', args, origin='there')
    user = ident(st)['users'][GID]
    assert user['password'] is None
    assert user['email'] == 'bob@example.org'


def test_only_the_named_site_answers(st):
    apply(st, 'identity.adopt', request())
    result = apply(st, 'identity.adoption.finish', done(), origin='here')
    assert result == {
        'ok': False,
        'error': 'site here cannot answer an adoption request of site there',
    }
    assert ident(st)['adoptions'][RID]['state'] == 'pending'
    assert not ident(st)['projects']


def test_an_unknown_request_is_refused(st):
    result = apply(st, 'identity.adoption.finish', done(), origin='there')
    assert result == {'ok': False, 'error': 'unknown adoption request ' + RID}


def test_failed_keeps_the_reason_and_the_first_answer_stands(st):
    apply(st, 'identity.adopt', request())
    failed = {'request_id': RID, 'outcome': 'failed', 'reason': 'no such'}
    result = apply(st, 'identity.adoption.finish', failed, origin='there')
    assert (result['state'], result['reason']) == ('failed', 'no such')
    later = apply(st, 'identity.adoption.finish', done(), origin='there')
    assert later['changed'] is False and later['state'] == 'failed'
    assert not ident(st)['projects']
    assert ident(st)['revision'] == 0


def test_a_name_taken_since_the_site_looked_fails_the_request(st):
    apply(st, 'identity.adopt', request())
    apply(
        st,
        'identity.project.put',
        {'project_id': '3' * 32, 'name': 'legacy', 'domain_id': 'default'},
    )
    result = apply(st, 'identity.adoption.finish', done(), origin='there')
    assert result['ok'] and result['state'] == 'failed'
    assert "project 'legacy' already exists" in result['reason']
    assert GID not in ident(st)['projects']
    assert 'there' not in ident(st)['idmap']


def test_an_id_the_federation_holds_fails_the_request(st):
    apply(
        st,
        'identity.project.put',
        {'project_id': GID, 'name': 'other', 'domain_id': 'default'},
    )
    apply(st, 'identity.adopt', request())
    result = apply(st, 'identity.adoption.finish', done(), origin='there')
    assert result['state'] == 'failed'
    assert 'with the id %s already' % GID in result['reason']
    assert ident(st)['projects'][GID]['name'] == 'other'


def test_links_come_with_the_object_if_their_ends_still_exist(st):
    apply(
        st,
        'identity.user.put',
        {'user_id': USER, 'name': 'bob', 'domain_id': 'default'},
    )
    apply(st, 'identity.adopt', request())
    grants = [
        {'role': 'member', 'actor_type': 'user', 'actor_id': USER},
        # Deleted since the site looked: left out.
        {'role': 'reader', 'actor_type': 'group', 'actor_id': '4' * 32},
    ]
    args = done(assignments=grants)
    assert apply(st, 'identity.adoption.finish', args, origin='there')['ok']
    (link,) = ident(st)['assignments'].values()
    assert link['role'] == 'member'
    assert (link['target_type'], link['target_id']) == ('project', GID)
    assert (link['actor_type'], link['actor_id']) == ('user', USER)


def test_a_group_comes_with_its_members(st):
    apply(
        st,
        'identity.user.put',
        {'user_id': USER, 'name': 'bob', 'domain_id': 'default'},
    )
    apply(st, 'identity.adopt', request(kind='groups', name='ops'))
    args = done(attrs={}, members=[USER])
    apply(st, 'identity.adoption.finish', args, origin='there')
    (member,) = ident(st)['memberships'].values()
    assert (member['group_id'], member['user_id']) == (GID, USER)


def test_links_of_the_wrong_kind_are_refused(st):
    apply(st, 'identity.adopt', request())
    result = apply(
        st, 'identity.adoption.finish', done(members=[USER]), origin='there'
    )
    assert result == {'ok': False, 'error': 'only a group comes with members'}
    assert ident(st)['adoptions'][RID]['state'] == 'pending'


def test_finished_requests_are_pruned_oldest_first(st, monkeypatch):
    monkeypatch.setattr(adoption, 'FINISHED_KEPT', 2)
    rids = ['%032x' % n for n in range(1, 5)]
    for rid in rids:
        apply(st, 'identity.adopt', request(rid=rid, name='p' + rid[-1]))
    pending_last = rids[-1]
    for rid in rids[:-1]:
        failed = {'request_id': rid, 'outcome': 'failed', 'reason': 'no'}
        apply(st, 'identity.adoption.finish', failed, origin='there')
    # Two finished kept (the newest), the pending one never dropped.
    assert set(ident(st)['adoptions']) == {rids[1], rids[2], pending_last}


def test_pending_requests_are_bounded(st, monkeypatch):
    monkeypatch.setattr(adoption, 'PENDING_MAX', 1)
    apply(st, 'identity.adopt', request())
    result = apply(st, 'identity.adopt', request(rid='b' * 32, name='two'))
    assert not result['ok']
    assert '1 adoptions are pending already' in result['error']


def test_the_appliers_are_deterministic():
    """Two members applying the same commands end in the same state."""
    other = state.KnowledgeState()
    wires = [
        commands.make('site.register', {'site': s, 'address': s + ':1'}, s)
        for s in ('here', 'there')
    ]
    wires += [
        commands.make('identity.adopt', request(), 'here'),
        commands.make('identity.adoption.finish', done(), 'there'),
    ]
    fresh = state.KnowledgeState()
    for wire in wires:
        fresh.apply(wire.to_wire())
        other.apply(wire.to_wire())
    assert fresh.data == other.data
    assert fresh.data['identity']['adoptions'][RID]['state'] == 'done'
