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

"""The shared-identity commands of the KB: fernet keys and revocations."""

import json
import pickle

import pytest

from sodos import exception
from sodos.identity import crypto
from sodos.identity import fernet
from sodos.kb import commands
from sodos.kb import identity_keys
from sodos.kb import state

SECRET = 'federation identity secret'
BOX = crypto.PasswordBox(SECRET)


def apply(st, type_, args, origin='a', term=None, ts=100.0):
    if type_ in commands.LEADER_ONLY and term is None:
        term = 1
    wire = commands.make(type_, args, origin, term=term, now=ts).to_wire()
    return st.apply(wire)


@pytest.fixture
def st():
    st = state.KnowledgeState()
    for name in ('a', 'b', 'c'):
        apply(st, 'site.register', {'site': name, 'address': name + ':1'})
    return st


def new_repo():
    plain = fernet.initial_repo(3)
    return plain, fernet.seal(BOX, plain)


def rotated(sealed, max_keys=3):
    current = {int(i): e for i, e in sealed.items()}
    staged = fernet.seal(BOX, {0: fernet.generate_key()})['0']
    return {
        str(i): e for i, e in fernet.rotate(current, max_keys, staged).items()
    }


def keys_of(st):
    return st.data['identity_keys']


def test_identity_keys_is_a_kb_section():
    assert 'identity_keys' in state.SECTIONS
    assert state.empty()['identity_keys'] == {}


def test_set_initial_then_replace(st):
    plain, sealed = new_repo()
    first = apply(st, 'identity.keys.set', {'keys': sealed, 'initial': True})
    assert first == {
        'ok': True,
        'changed': True,
        'hash': fernet.content_hash(plain),
        'generation': 1,
    }
    repo = keys_of(st)['repo']
    assert repo['reason'] == 'initial' and repo['rotated_at'] == 100.0
    # Another leader's initial repository does not replace it.
    _, other = new_repo()
    again = apply(st, 'identity.keys.set', {'keys': other, 'initial': True})
    assert again['changed'] is False and again['generation'] == 1
    assert keys_of(st)['repo']['keys'] == sealed
    # An operator's replacement does.
    replaced = apply(
        st, 'identity.keys.set', {'keys': other, 'reason': 'compromised'}
    )
    assert replaced['changed'] and replaced['generation'] == 2
    assert keys_of(st)['repo']['reason'] == 'compromised'
    # Replayed: nothing changes.
    same = apply(st, 'identity.keys.set', {'keys': other})
    assert same['changed'] is False and same['generation'] == 2


def test_no_plaintext_key_in_a_command_or_the_state(st):
    plain, sealed = new_repo()
    wire = commands.make(
        'identity.keys.set', {'keys': sealed}, 'a', now=1.0
    ).to_wire()
    st.apply(wire)
    journal = json.dumps(wire) + repr(pickle.dumps(st.data))
    for key in plain.values():
        assert key not in journal
    # A key in clear is refused by the schema, whatever field holds it.
    clear = dict(sealed['0'], ciphertext=plain[0])
    with pytest.raises(exception.InvalidCommand, match='ciphertext'):
        commands.make(
            'identity.keys.set', {'keys': dict(sealed, **{'0': clear})}, 'a'
        )
    with pytest.raises(exception.InvalidCommand, match='keys'):
        commands.make('identity.keys.set', {'keys': {'0': plain[0]}}, 'a')


def test_a_repository_needs_a_staged_key_and_distinct_keys(st):
    _, sealed = new_repo()
    with pytest.raises(exception.InvalidCommand, match="'0'"):
        commands.make(
            'identity.keys.set',
            {'keys': {'1': sealed['1'], '2': sealed['0']}},
            'a',
        )
    result = apply(
        st, 'identity.keys.set', {'keys': {'0': sealed['0'], '1': sealed['0']}}
    )
    assert result == {
        'ok': False,
        'error': 'the same key appears twice in the repository',
    }
    assert keys_of(st)['repo'] is None


def ack(st, site, digest):
    return apply(
        st, 'identity.keys.ack', {'site': site, 'hash': digest}, origin=site
    )


def test_rotation_is_refused_until_every_site_up_holds_the_keys(st):
    _, sealed = new_repo()
    apply(st, 'identity.keys.set', {'keys': sealed, 'initial': True})
    current = keys_of(st)['repo']['hash']
    ack(st, 'a', current)
    ack(st, 'b', 'f' * 64)  # b holds something else
    args = {'keys': rotated(sealed), 'base_hash': current}
    result = apply(st, 'identity.keys.rotate', args)
    assert not result['ok']
    assert (
        'lock-step: site(s) b do not hold the current keys'
        in (result['error'])
    )
    assert keys_of(st)['repo']['generation'] == 1
    # A site down does not hold rotation back: it takes the current keys
    # when it comes back.
    apply(st, 'site.status', {'site': 'b', 'status': 'down'})
    assert apply(st, 'identity.keys.rotate', args)['generation'] == 2
    # Now a (up, acknowledged the old keys) lags: no second rotation.
    new = keys_of(st)['repo']
    second = {'keys': rotated(new['keys']), 'base_hash': new['hash']}
    result = apply(st, 'identity.keys.rotate', second)
    assert 'site(s) a do not hold' in result['error']
    ack(st, 'a', new['hash'])
    assert apply(st, 'identity.keys.rotate', second)['generation'] == 3


def test_a_site_that_never_acknowledged_takes_no_part(st):
    _, sealed = new_repo()
    apply(st, 'identity.keys.set', {'keys': sealed})
    current = keys_of(st)['repo']['hash']
    # Sites a, b, c are up; none has acknowledged.
    args = {'keys': rotated(sealed), 'base_hash': current}
    assert apply(st, 'identity.keys.rotate', args)['ok']


def test_rotation_from_stale_keys_or_not_a_rotation_is_refused(st):
    _, sealed = new_repo()
    apply(st, 'identity.keys.set', {'keys': sealed})
    current = keys_of(st)['repo']['hash']
    stale = apply(
        st,
        'identity.keys.rotate',
        {'keys': rotated(sealed), 'base_hash': 'e' * 64},
    )
    assert 'rotation made from keys eeeeeeeeeeee' in stale['error']
    _, other = new_repo()
    swapped = apply(
        st,
        'identity.keys.rotate',
        {'keys': rotated(other), 'base_hash': current},
    )
    assert 'the staged key 0 must become key 2' in swapped['error']
    same_staged = rotated(sealed)
    same_staged['0'] = sealed['1']
    result = apply(
        st,
        'identity.keys.rotate',
        {'keys': same_staged, 'base_hash': current},
    )
    assert 'must be a new key' in result['error']
    assert keys_of(st)['repo']['generation'] == 1


def test_rotation_must_drop_the_oldest_keys(st):
    plain = {0: 's', 1: 'a', 2: 'b', 3: 'c'}
    plain = {i: fernet.generate_key() for i in plain}
    sealed = fernet.seal(BOX, plain)
    apply(st, 'identity.keys.set', {'keys': sealed})
    current = keys_of(st)['repo']['hash']
    good = rotated(sealed, max_keys=3)
    assert sorted(good, key=int) == ['0', '3', '4']
    wrong = dict(good)
    del wrong['3']
    wrong['1'] = sealed['1']
    result = apply(
        st, 'identity.keys.rotate', {'keys': wrong, 'base_hash': current}
    )
    assert 'the oldest keys must be the ones dropped' in result['error']
    assert apply(
        st, 'identity.keys.rotate', {'keys': good, 'base_hash': current}
    )['ok']


def test_rotation_is_leader_only_and_refused_from_a_stale_term(st):
    _, sealed = new_repo()
    apply(st, 'identity.keys.set', {'keys': sealed})
    current = keys_of(st)['repo']['hash']
    with pytest.raises(exception.InvalidCommand, match='needs its term'):
        commands.Command.from_wire(
            dict(
                commands.make(
                    'identity.keys.ack', {'site': 'a', 'hash': current}, 'a'
                ).to_wire(),
                type='identity.keys.rotate',
                args={'keys': rotated(sealed), 'base_hash': current},
            )
        )
    apply(st, 'leader.claim', {'site': 'a'}, term=5)
    args = {'keys': rotated(sealed), 'base_hash': current}
    result = apply(st, 'identity.keys.rotate', args, term=4)
    assert result == {
        'ok': False,
        'error': 'stale term 4: a leader of term 5 exists',
    }


def test_ack_only_for_itself(st):
    result = apply(
        st, 'identity.keys.ack', {'site': 'b', 'hash': 'a' * 64}, origin='a'
    )
    assert result == {
        'ok': False,
        'error': 'site a cannot acknowledge keys for site b',
    }
    result = ack(st, 'zz', 'a' * 64)
    assert result == {'ok': False, 'error': "unknown site 'zz'"}
    _, sealed = new_repo()
    apply(st, 'identity.keys.set', {'keys': sealed})
    current = keys_of(st)['repo']['hash']
    assert ack(st, 'a', current) == {
        'ok': True,
        'changed': True,
        'current': True,
    }
    assert ack(st, 'a', current)['changed'] is False
    assert keys_of(st)['acks'] == {'a': {'hash': current, 'at': 100.0}}


# -- revocations -------------------------------------------------------------


def event(audit_id, revoked_at='2030-01-01T10:00:00.000000', **more):
    return dict(
        audit_id=audit_id,
        issued_before=revoked_at,
        revoked_at=revoked_at,
        **more,
    )


def test_revocations_are_deduplicated_by_content(st):
    first = apply(
        st,
        'identity.revocation.add',
        {'events': [event('x1'), event('x2'), event('x1')]},
    )
    assert first == {'ok': True, 'added': 2, 'duplicates': 1, 'expired': 0}
    # The same revocation from another site (its own row id is not sent).
    second = apply(
        st,
        'identity.revocation.add',
        {'events': [event('x2'), event('x2', user_id='u')]},
        origin='b',
    )
    assert second['added'] == 1 and second['duplicates'] == 1
    stored = keys_of(st)['revocations']
    assert len(stored) == 3
    key = identity_keys.event_key(event('x1'))
    assert stored[key] == dict(event('x1'), site='a')


def test_revocation_events_are_checked():
    bad = [
        {'audit_id': 'x'},  # no times
        event('x', revoked_at='2030-01-01 10:00:00'),
        dict(event('x'), id=7),
        dict(event('x'), audit_id='y' * 33),
    ]
    for item in bad:
        with pytest.raises(exception.InvalidCommand):
            commands.make('identity.revocation.add', {'events': [item]}, 'a')


def test_prune_drops_old_events_and_refuses_them_later(st):
    apply(
        st,
        'identity.revocation.add',
        {
            'events': [
                event('old', '2030-01-01T09:00:00.000000'),
                event('new', '2030-01-01T11:00:00.000000'),
            ]
        },
    )
    cutoff = '2030-01-01T10:00:00.000000'
    result = apply(st, 'identity.revocation.prune', {'revoked_before': cutoff})
    assert result == {'ok': True, 'pruned': 1}
    sec = keys_of(st)
    assert [e['audit_id'] for e in sec['revocations'].values()] == ['new']
    assert sec['revocations_pruned_before'] == cutoff
    # A site that still has the old one does not bring it back.
    again = apply(
        st,
        'identity.revocation.add',
        {'events': [event('old', '2030-01-01T09:00:00.000000')]},
    )
    assert again['expired'] == 1 and len(sec['revocations']) == 1
    # An older cut-off does not move the mark back.
    apply(
        st,
        'identity.revocation.prune',
        {'revoked_before': '2029-01-01T00:00:00.000000'},
    )
    assert keys_of(st)['revocations_pruned_before'] == cutoff


def test_prune_is_leader_only(st):
    with pytest.raises(exception.InvalidCommand, match='needs its term'):
        commands.Command.from_wire(
            dict(
                commands.make(
                    'identity.revocation.add', {'events': [event('x')]}, 'a'
                ).to_wire(),
                type='identity.revocation.prune',
                args={'revoked_before': '2030-01-01T00:00:00.000000'},
            )
        )


def test_times_sort_as_text():
    assert identity_keys.time_at(0) == '1970-01-01T00:00:00.000000'
    assert identity_keys.time_at(1.5) < identity_keys.time_at(10)
    moment = identity_keys.parse_time('2030-01-01T10:00:00.250000')
    assert identity_keys.format_time(moment) == '2030-01-01T10:00:00.250000'
