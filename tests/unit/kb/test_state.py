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

import copy

import pytest

from sodos.kb import commands
from sodos.kb import query
from sodos.kb import state

FED = 'f' * 32
ALERT = 'a' * 32
APPLIANCE = 'b' * 32
ACTION = 'c' * 32


def cmd(type_, args, term=None, ts=100.0, origin='a'):
    if type_ in commands.LEADER_ONLY and term is None:
        term = 1
    return commands.make(type_, args, origin, term=term, now=ts).to_wire()


def register(kb, site, address, ts=100.0):
    return kb.apply(
        cmd('site.register', {'site': site, 'address': address}, ts=ts)
    )


@pytest.fixture
def kb():
    kb = state.KnowledgeState()
    register(kb, 'a', 'h:1')
    register(kb, 'b', 'h:2')
    return kb


def test_register_creates_readonly_up_site(kb):
    site = kb.read('sites')['a']
    assert site['role'] == 'readonly'
    assert site['status'] == 'up'
    assert site['address'] == 'h:1'
    assert site['joined_at'] == 100.0


def test_register_refuses_an_address_of_another_site(kb):
    before = kb.read()
    result = register(kb, 'c', 'h:1')
    assert result == {
        'ok': False,
        'error': 'address h:1 already belongs to site a',
    }
    assert kb.read() == before


def test_reregister_after_down_brings_the_site_up(kb):
    kb.apply(cmd('site.status', {'site': 'a', 'status': 'down'}, ts=101))
    assert kb.read('sites')['a']['status'] == 'down'
    assert register(kb, 'a', 'h:1', ts=102)['created'] is False
    site = kb.read('sites')['a']
    assert (site['status'], site['status_changed_at']) == ('up', 102)


def test_an_alert_raised_again_tells_its_cause_anew(kb):
    def raised(message, ts, severity='warning'):
        return kb.apply(
            cmd(
                'alert.raise',
                {
                    'alert_id': ALERT,
                    'site': 'a',
                    'kind': 'unplaced',
                    'severity': severity,
                    'message': message,
                },
                ts=ts,
            )
        )

    assert raised('s3: site down', 100.0)['created']
    kb.apply(cmd('alert.ack', {'alert_id': ALERT, 'by': 'op'}, ts=101.0))
    assert raised('s3: site down', 102.0) == {'ok': True, 'created': False}
    changed = raised('s3: owner C does not admit owner B', 103.0)
    assert changed == {'ok': True, 'created': False, 'updated': True}
    alert = kb.read('alerts')[ALERT]
    assert alert['message'] == 's3: owner C does not admit owner B'
    # Still the alert raised at 100, as acknowledged.
    assert (alert['raised_at'], alert['updated_at']) == (100.0, 103.0)
    assert alert['acknowledged_at'] == 101.0


def test_duplicate_command_applies_once_and_returns_first_result(kb):
    wire = cmd(
        'alert.raise',
        {
            'alert_id': ALERT,
            'site': 'a',
            'kind': 'down',
            'severity': 'critical',
            'message': 'gone',
        },
    )
    first = kb.apply(wire)
    after_first = kb.read()
    again = kb.apply(copy.deepcopy(wire))
    assert first == {'ok': True, 'created': True}
    assert again == {'ok': True, 'created': True, 'duplicate': True}
    assert kb.read() == after_first


def test_rejected_command_changes_nothing(kb):
    before = kb.read()
    for wire in (
        {'garbage': True},
        cmd('monitoring.report', {'site': 'nowhere', 'summary': {}}),
        cmd('action.update', {'action_id': ACTION, 'state': 'done'}),
        cmd(
            'placement.set',
            {'appliance_id': APPLIANCE, 'member': 'm', 'site': 'a'},
        ),
    ):
        result = kb.apply(wire)
        assert result['ok'] is False
        assert result['error']
    assert kb.read() == before


def test_malformed_command_in_the_log_is_refused_not_raised(kb):
    wire = cmd('site.leave', {'site': 'a'})
    wire['args'] = {'site': 7}
    assert kb.apply(wire)['ok'] is False
    assert kb.read('sites')['a']['status'] == 'up'


def test_stale_term_is_refused(kb):
    assert kb.apply(
        cmd('site.status', {'site': 'a', 'status': 'down'}, term=5)
    )['ok']
    stale = kb.apply(cmd('site.status', {'site': 'a', 'status': 'up'}, term=4))
    assert stale == {
        'ok': False,
        'error': 'stale term 4: a leader of term 5 exists',
    }
    assert kb.read('sites')['a']['status'] == 'down'


def test_site_status_reports_transitions_only(kb):
    down = cmd('site.status', {'site': 'a', 'status': 'down'})
    assert kb.apply(down)['changed'] is True
    again = cmd('site.status', {'site': 'a', 'status': 'down'})
    assert kb.apply(again)['changed'] is False


def test_left_site_stays_left(kb):
    kb.apply(cmd('site.leave', {'site': 'a'}))
    result = kb.apply(cmd('site.status', {'site': 'a', 'status': 'up'}))
    assert result['changed'] is False
    assert kb.read('sites')['a']['status'] == 'left'


def test_member_role_records_voters(kb):
    kb.apply(
        cmd(
            'member.role',
            {'site': 'b', 'role': 'voter', 'voters': ['h:2', 'h:1', 'h:2']},
        )
    )
    assert kb.read('sites')['b']['role'] == 'voter'
    assert kb.read('membership')['voters'] == ['h:1', 'h:2']


def lock(kb, change, owner='a', term=1, ts=100.0, ttl=60):
    return kb.apply(
        cmd(
            'membership.lock',
            {'change_id': change * 32, 'owner': owner, 'ttl': ttl},
            term=term,
            ts=ts,
        )
    )


def test_lock_one_holder_at_a_time(kb):
    assert lock(kb, '1')['granted'] is True
    held = lock(kb, '2', owner='b')
    assert held['granted'] is False
    assert held['holder']['owner'] == 'a'
    # The owner's next change in the same term takes its leftover over.
    assert lock(kb, '3')['granted'] is True
    kb.apply(cmd('membership.unlock', {'change_id': '3' * 32}))
    assert lock(kb, '4', owner='b')['granted'] is True


def test_lock_taken_over_by_newer_term_or_after_ttl(kb):
    lock(kb, '1', owner='a', term=1)
    assert lock(kb, '2', owner='b', term=2)['granted'] is True
    assert lock(kb, '3', owner='c', term=2, ts=159)['granted'] is False
    assert lock(kb, '3', owner='c', term=2, ts=161)['granted'] is True


def test_unlock_by_other_change_does_not_release(kb):
    lock(kb, '1')
    result = kb.apply(cmd('membership.unlock', {'change_id': '9' * 32}))
    assert result['released'] is False
    assert kb.read('membership')['lock']['change_id'] == '1' * 32


def test_federation_init_once(kb):
    init = {'federation_id': FED, 'voter_count': 3}
    assert kb.apply(cmd('federation.init', init))['created'] is True
    assert kb.read('policy')['voter_count'] == 3
    other = {'federation_id': 'e' * 32, 'voter_count': 5}
    assert (
        'already initialised'
        in kb.apply(cmd('federation.init', other))['error']
    )
    assert kb.read('federation')['id'] == FED


def test_actions_lifecycle(kb):
    put = {'action_id': ACTION, 'site': 'a', 'kind': 'noop', 'params': {}}
    assert kb.apply(cmd('action.put', put))['created'] is True
    assert kb.apply(
        cmd('action.update', {'action_id': ACTION, 'state': 'done'})
    )['ok']
    late = kb.apply(
        cmd('action.update', {'action_id': ACTION, 'state': 'failed'})
    )
    assert 'already ended' in late['error']
    assert kb.read('actions')[ACTION]['state'] == 'done'


def test_reads_are_copies(kb):
    sites = kb.read('sites')
    sites['a']['status'] = 'mutated'
    assert kb.read('sites')['a']['status'] == 'up'
    whole = kb.read()
    whole['sites']['a']['status'] = 'mutated'
    assert kb.read('sites')['a']['status'] == 'up'


def test_a_frozen_read_is_the_state_when_it_was_taken(kb):
    thaw = kb.freeze(query.Query('sites'))
    kb.apply(
        cmd('site.status', {'site': 'a', 'status': 'down', 'reason': 'r'})
    )
    assert thaw()['a']['status'] == 'up'
    assert kb.read('sites')['a']['status'] == 'down'


def test_a_read_copies_what_marshal_cannot(kb):
    # Only plain data reaches the KB through the log; an object put in
    # directly (as a test may) is deep-copied instead.
    marker = {1, 2}
    kb.data['policy']['odd'] = marker
    policy = kb.read('policy')
    assert policy['odd'] == marker
    assert policy['odd'] is not marker


def test_same_commands_give_same_state_everywhere():
    log = [
        cmd('federation.init', {'federation_id': FED, 'voter_count': 5}),
        cmd('site.register', {'site': 'a', 'address': 'h:1'}, ts=1),
        cmd('site.register', {'site': 'b', 'address': 'h:1'}, ts=2),
        cmd(
            'appliance.put',
            {'appliance_id': APPLIANCE, 'spec': {'name': 'web'}},
            ts=3,
        ),
        cmd(
            'placement.set',
            {'appliance_id': APPLIANCE, 'member': 'web-0', 'site': 'a'},
            term=2,
            ts=4,
        ),
        cmd('site.status', {'site': 'a', 'status': 'down'}, term=1, ts=5),
        {'broken': 1},
    ]
    first, second = state.KnowledgeState(), state.KnowledgeState()
    results = [first.apply(copy.deepcopy(w)) for w in log]
    assert results == [second.apply(copy.deepcopy(w)) for w in log]
    assert first.read() == second.read()
    assert first.applied == second.applied == len(log)
    # The stale-term status change was refused on both.
    assert first.read('sites')['a']['status'] == 'up'


def test_leader_claim_fences_the_previous_leader(kb):
    assert kb.apply(cmd('leader.claim', {'site': 'b'}, term=3))['ok']
    assert kb.read('federation')['leader'] == {
        'site': 'b',
        'term': 3,
        'since': 100.0,
    }
    late = kb.apply(
        cmd('site.status', {'site': 'b', 'status': 'down'}, term=2)
    )
    assert late['ok'] is False and 'stale term 2' in late['error']


def test_federation_init_keeps_an_earlier_leader_claim():
    kb = state.KnowledgeState()
    kb.apply(cmd('leader.claim', {'site': 'a'}, term=1))
    kb.apply(cmd('federation.init', {'federation_id': FED, 'voter_count': 3}))
    federation = kb.read('federation')
    assert federation['id'] == FED
    assert federation['leader']['site'] == 'a'


def test_an_update_changes_the_spec_it_was_read_from(kb):
    kb.apply(
        cmd('appliance.put', {'appliance_id': APPLIANCE, 'spec': {}}, ts=3)
    )
    answer = kb.apply(
        cmd(
            'appliance.update',
            {
                'appliance_id': APPLIANCE,
                'spec': {'name': 'b'},
                'updated_at': 3,
            },
            ts=4,
        )
    )
    assert answer['ok'], answer
    record = kb.read('appliances')[APPLIANCE]
    assert record == {'spec': {'name': 'b'}, 'created_at': 3, 'updated_at': 4}


def test_an_update_read_before_another_change_is_refused(kb):
    kb.apply(
        cmd('appliance.put', {'appliance_id': APPLIANCE, 'spec': {}}, ts=3)
    )
    before = kb.read('appliances')
    answer = kb.apply(
        cmd(
            'appliance.update',
            {
                'appliance_id': APPLIANCE,
                'spec': {'name': 'b'},
                'updated_at': 2,
            },
            ts=4,
        )
    )
    assert not answer['ok']
    assert 'changed meanwhile' in answer['error']
    assert kb.read('appliances') == before


def test_an_update_never_brings_back_a_deleted_appliance(kb):
    answer = kb.apply(
        cmd(
            'appliance.update',
            {
                'appliance_id': APPLIANCE,
                'spec': {'name': 'b'},
                'updated_at': 3,
            },
        )
    )
    assert not answer['ok']
    assert 'deleted meanwhile' in answer['error']
    assert APPLIANCE not in kb.read('appliances')
