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

"""The leader's rotation of the shared fernet keys, on the in-memory KB."""

import time

import pytest

from sodos.identity import crypto
from sodos.identity import fernet
from sodos.kb import commands
from sodos.kb import identity_keys
from sodos.knowmon import fernet_rotation

SECRET = 'federation identity secret'
DAY = 86400.0


@pytest.fixture
def leader(knowmon, conf):
    conf.set_override('mode', 'shared', 'identity')
    conf.set_override('secret', SECRET, 'identity')
    conf.set_override('fernet_rotation_interval', DAY, 'identity')
    conf.set_override('fernet_max_active_keys', 3, 'identity')
    return fernet_rotation.FernetRotation(conf, knowmon.backend)


def kb_keys(knowmon):
    return identity_keys.section(knowmon.backend.read('identity_keys'))


def ack(knowmon, site, digest):
    knowmon.backend.submit(
        commands.make(
            'identity.keys.ack', {'site': site, 'hash': digest}, site
        )
    )


def register(knowmon, site):
    knowmon.backend.submit(
        commands.make(
            'site.register', {'site': site, 'address': site + ':1'}, site
        )
    )


def test_nothing_unless_the_federation_shares_keys(leader, knowmon, conf):
    conf.set_override('mode', 'api', 'identity')
    assert leader.step(now=1000.0) == []
    assert kb_keys(knowmon)['repo'] is None


def test_first_leader_makes_the_keys_then_waits(leader, knowmon):
    done = leader.step(now=1000.0)
    assert done == ['fernet keys: initial keys, generation 1']
    repo = kb_keys(knowmon)['repo']
    plain = fernet.unseal(crypto.PasswordBox(SECRET), repo['keys'])
    assert sorted(plain) == [0, 1]
    assert repo['hash'] == fernet.content_hash(plain)
    # Not due yet, even with every site in line.
    ack(knowmon, 'here', repo['hash'])
    assert leader.step(now=repo['rotated_at'] + DAY - 1) == []
    assert kb_keys(knowmon)['repo']['generation'] == 1


def test_rotation_when_due_moves_the_staged_key(leader, knowmon):
    leader.step(now=1000.0)
    before = kb_keys(knowmon)['repo']
    ack(knowmon, 'here', before['hash'])
    repo = before
    for n in range(1, 4):
        done = leader.step(now=repo['rotated_at'] + DAY + 1)
        assert done == ['fernet keys: rotation, generation %d' % (n + 1)]
        previous, repo = repo, kb_keys(knowmon)['repo']
        primary = str(max(int(i) for i in repo['keys']))
        assert repo['keys'][primary] == previous['keys']['0']
        assert len(repo['keys']) <= 3
        ack(knowmon, 'here', repo['hash'])
    box = crypto.PasswordBox(SECRET)
    assert sorted(fernet.unseal(box, repo['keys'])) == [0, 3, 4]


def test_rotation_waits_for_a_lagging_site_and_alerts(leader, knowmon):
    register(knowmon, 'far')
    leader.step(now=1000.0)
    repo = kb_keys(knowmon)['repo']
    ack(knowmon, 'here', repo['hash'])
    ack(knowmon, 'far', 'f' * 64)
    due = repo['rotated_at'] + DAY + 1
    done = leader.step(now=due)
    assert done[0] == 'fernet key rotation waits for far to hold generation 1'
    assert kb_keys(knowmon)['repo']['generation'] == 1
    alert_id = fernet_rotation.alert_id('far')
    assert 'raised: fernet keys lag at far' in done
    alert = knowmon.backend.read('alerts')[alert_id]
    assert alert['kind'] == 'fernet_keys' and alert['site'] == 'far'
    assert 'generation 1' in alert['message']
    # Raised once.
    assert not any('raised' in line for line in leader.step(now=due + 5))
    # The site catches up: the alert closes and the rotation goes on.
    ack(knowmon, 'far', repo['hash'])
    done = leader.step(now=due + 10)
    assert 'fernet keys: rotation, generation 2' in done
    assert 'fernet keys alert of far closed' in done
    assert alert_id not in knowmon.backend.read('alerts')


def test_no_alert_within_the_grace(leader, knowmon):
    register(knowmon, 'far')
    leader.step(now=1000.0)
    ack(knowmon, 'far', 'f' * 64)
    repo = kb_keys(knowmon)['repo']
    soon = repo['changed_at'] + fernet_rotation.LAG_ALERT_AFTER - 1
    assert leader.step(now=soon) == []
    assert knowmon.backend.read('alerts') == {}


def test_no_secret_is_said_and_nothing_is_made(leader, knowmon, conf):
    conf.set_override('secret', None, 'identity')
    done = leader.step(now=1000.0)
    assert done == [
        'fernet keys: [identity]secret is not set: passwords cannot be '
        'stored or read (set the same secret at every site)'
    ]
    assert kb_keys(knowmon)['repo'] is None


def test_keys_of_another_secret_are_not_rotated(leader, knowmon, conf):
    leader.step(now=1000.0)
    conf.set_override('secret', 'another secret', 'identity')
    repo = kb_keys(knowmon)['repo']
    done = leader.step(now=repo['rotated_at'] + DAY + 1)
    assert 'encrypted with another [identity]secret' in done[0]
    assert kb_keys(knowmon)['repo']['generation'] == 1


def test_old_revocations_are_pruned(leader, knowmon):
    now = time.time()
    old = identity_keys.time_at(now - identity_keys.REVOCATION_RETENTION - 1)
    recent = identity_keys.time_at(now - 60)
    knowmon.backend.propose(
        'identity.revocation.add',
        {
            'events': [
                {'audit_id': 'old', 'issued_before': old, 'revoked_at': old},
                {
                    'audit_id': 'recent',
                    'issued_before': recent,
                    'revoked_at': recent,
                },
            ]
        },
    )
    done = leader.step(now=now)
    assert done[-1] == 'pruned 1 revocation events'
    assert leader.step(now=now) == []  # nothing left to prune
    events = kb_keys(knowmon)['revocations'].values()
    assert [e['audit_id'] for e in events] == ['recent']


def test_replacement_args_make_a_fresh_repository():
    box = crypto.PasswordBox(SECRET)
    args = fernet_rotation.replacement_args(box, 3, 'compromised')
    assert args['reason'] == 'compromised'
    assert sorted(fernet.unseal(box, args['keys'])) == [0, 1]


def test_the_leader_cycle_looks_after_the_keys(leader, knowmon):
    line = knowmon.cycle()
    assert 'fernet keys: initial keys, generation 1' in line
    assert kb_keys(knowmon)['repo']['generation'] == 1
