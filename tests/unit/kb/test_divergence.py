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

"""Detecting a member whose Knowledge Base diverged from the leader's.

The digest of the applied commands (sodos.kb.state), the leader's memory
of its own digests (sodos.kb.raft.consumer), the verdict in the heartbeat
reply, what a diverged member does, and the alert KnowMon raises.
"""

import os
import pickle
import time

import pytest

from sodos.kb import commands
from sodos.kb import state
from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import consumer as consumer_mod
from sodos.kb.raft import control
from sodos.kb.raft import heartbeat
from sodos.knowmon import divergence
from sodos.sim import ports


def alert(i, site='a'):
    return commands.make(
        'alert.raise',
        {
            'alert_id': '%032x' % i,
            'site': site,
            'kind': 'test',
            'severity': 'info',
            'message': 'm%d' % i,
        },
        'a',
    ).to_wire()


def applied(wires):
    kb = state.KnowledgeState()
    for wire in wires:
        kb.apply(wire)
    return kb


def test_same_commands_in_the_same_order_give_the_same_digest():
    wires = [alert(i) for i in range(5)]
    one, two = applied(wires), applied(wires)
    assert (
        (one.applied, one.digest)
        == (two.applied, two.digest)
        == (
            5,
            one.digest,
        )
    )
    assert one.digest != 0


def test_another_command_or_order_gives_another_digest():
    wires = [alert(i) for i in range(5)]
    base = applied(wires).digest
    assert applied(wires[:4] + [alert(9)]).digest != base
    assert applied(list(reversed(wires))).digest != base


def test_a_duplicate_changes_neither_count_nor_digest():
    wires = [alert(i) for i in range(3)]
    kb = applied(wires)
    before = (kb.applied, kb.digest)
    kb.apply(wires[1])
    assert (kb.applied, kb.digest) == before


def test_a_state_from_before_the_digest_starts_hashing_where_it_is():
    kb = applied([alert(i) for i in range(3)])
    # What a snapshot made before the digest existed unpickles to.
    del kb.__dict__['digest'], kb.__dict__['digest_since']
    old = pickle.loads(pickle.dumps(kb))
    assert old.digest_since is None
    old.apply(alert(7))
    assert old.digest_since == 3 and old.applied == 4


def consumer_after(wires):
    made = consumer_mod.KBConsumer(lambda wire, result: None)
    for wire in wires:
        # pysyncobj's way to run a replicated method outside a cluster.
        made.apply(wire, _doApply=True)
    return made


def test_the_leader_judges_a_fingerprint_against_its_history():
    wires = [alert(i) for i in range(6)]
    leader = consumer_after(wires)
    follower = consumer_after(wires[:4])
    assert not leader.diverges(follower.fingerprint())
    other = consumer_after(wires[:3] + [alert(99)])
    assert other.fingerprint()['count'] == 4
    assert leader.diverges(other.fingerprint())
    # Unknown is not divergence: ahead of the leader, another start, junk.
    ahead = consumer_after(wires + [alert(50)])
    assert not leader.diverges(ahead.fingerprint())
    assert not leader.diverges(dict(other.fingerprint(), since=2))
    assert not leader.diverges('junk')
    assert not leader.diverges({'count': 'x'})


def test_the_leader_forgets_the_oldest_digests(monkeypatch):
    monkeypatch.setattr(consumer_mod, 'DIGESTS_KEPT', 3)
    wires = [alert(i) for i in range(8)]
    leader = consumer_after(wires)
    old = consumer_after(wires[:1] + [alert(99)])
    assert not leader.diverges(old.fingerprint())  # count 2: forgotten
    recent = consumer_after(wires[:6] + [alert(98)])
    assert leader.diverges(recent.fingerprint())  # count 7: kept


def test_alerts_are_raised_once_and_closed_when_the_site_agrees():
    raised, closed = divergence.changes({'b': 40}, {'b'}, {})
    assert [a['site'] for a in raised] == ['b'] and closed == []
    assert raised[0]['kind'] == divergence.KIND
    assert '40 commands' in raised[0]['message']
    open_ = {raised[0]['alert_id']: dict(raised[0], state='open')}
    assert divergence.changes({'b': 40}, {'b'}, open_) == ([], [])
    # A new leader has not heard from b yet: the alert stays.
    assert divergence.changes({}, set(), open_) == ([], [])
    assert divergence.changes({}, {'b'}, open_) == (
        [],
        [raised[0]['alert_id']],
    )


def test_a_stuck_site_gets_its_own_alert_closed_when_it_applies_again():
    raised, closed = divergence.changes({'b': 812}, {'b'}, {}, 'behind')
    assert raised[0]['kind'] == divergence.BEHIND_KIND
    assert 'index 812' in raised[0]['message'] and closed == []
    assert raised[0]['alert_id'] != divergence.alert_id('b')
    open_ = {raised[0]['alert_id']: dict(raised[0], state='open')}
    # A divergence verdict does not close it, nor does silence.
    assert divergence.changes({}, {'b'}, open_) == ([], [])
    assert divergence.changes({}, set(), open_, 'behind') == ([], [])
    assert divergence.changes({}, {'b'}, open_, 'behind') == (
        [],
        [raised[0]['alert_id']],
    )


def test_the_table_finds_a_site_stuck_behind_the_commit_index(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(heartbeat, 'monotonic', lambda: clock[0])
    table = heartbeat.Table()
    table.record('b', 50)
    table.record('c', 50)
    clock[0] += heartbeat.STALLED_AFTER
    table.record('b', 50)  # the same index again
    table.record('c', 60)  # moved: slow, not stuck
    assert table.stalled_for('b', 70) == heartbeat.STALLED_AFTER
    assert table.stalled_for('c', 70) == 0.0
    assert table.stalled(70) == {'b': 50}
    # Caught up is not stuck, however long the index stays.
    assert table.stalled(50) == {}
    assert table.mark('behind', 'b', 50) is True
    assert table.mark('behind', 'b', 50) is False
    assert table.marked('behind') == {'b': 50}
    assert table.diverged() == {}
    table.clear()
    assert table.marked('behind') == {} and table.stalled(70) == {}


# -- two real members on loopback ----------------------------------------


@pytest.fixture
def pair(make_conf):
    running = []
    # One voter: the second member stays read-only.
    first = raft_backend.RaftBackend(
        make_conf(address=ports.free_address(), voter_count=1)
    )
    first.start()
    running.append(first)
    assert first.wait_ready(15), first.problem
    second = raft_backend.RaftBackend(
        make_conf(
            site='site-b',
            address=ports.free_address(),
            join=[first.address],
        )
    )
    second.start()
    running.append(second)
    assert second.wait_ready(15), second.problem
    yield first, second
    for member in running:
        member.stop()


def wait_for(predicate, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError('timed out waiting for ' + what)


def test_a_forged_fingerprint_is_found_diverged_and_the_truth_is_not(pair):
    leader, member = pair
    wait_for(
        lambda: (
            member.runner.fingerprint()['count']
            == leader.runner.fingerprint()['count']
        ),
        'the member to catch up',
    )
    # The member's own heartbeats would clear the mark meanwhile.
    member._sender.stop()
    truth = member.runner.fingerprint()
    reply = control.call(
        leader.address,
        leader.credentials,
        'heartbeat',
        site='site-b',
        applied=0,
        kb=dict(truth, digest=truth['digest'] ^ 1),
    )
    assert reply['diverged'] == truth['count']
    assert leader.heartbeats.diverged() == {'site-b': truth['count']}
    reply = control.call(
        leader.address,
        leader.credentials,
        'heartbeat',
        site='site-b',
        applied=0,
        kb=truth,
    )
    assert 'diverged' not in reply
    assert leader.heartbeats.diverged() == {}


def test_a_diverged_read_only_member_replicates_afresh(pair):
    leader, member = pair
    for i in range(5):
        leader.propose(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': 'site-a',
                'kind': 'test',
                'severity': 'info',
                'message': 'm',
            },
        )
    wait_for(lambda: len(member.read('alerts')) == 5, 'replication')
    assert not member.runner.voter
    # The member's own heartbeats would bring the leader's true verdict.
    member._sender.stop()
    member.diverged(7)
    assert 'diverged' in member.problem
    aside = [
        name
        for name in os.listdir(member.settings.data_dir)
        if '.diverged-' in name
    ]
    assert aside, os.listdir(member.settings.data_dir)
    wait_for(
        lambda: (
            len(member.read('alerts')) == 5
            and not member.runner.diverges(leader.runner.fingerprint())
            and member.runner.fingerprint() == leader.runner.fingerprint()
        ),
        'the member to replicate afresh',
    )
    member.diverged(None)
    assert member.problem is None


def test_a_diverged_voter_is_fenced_until_the_leader_agrees(pair):
    leader, _member = pair
    assert leader.in_quorum()
    leader.diverged(3)
    assert not leader.in_quorum()
    assert not leader.status().has_quorum
    assert 'Exec is fenced' in leader.problem
    leader.diverged(None)
    assert leader.in_quorum() and leader.problem is None


def test_a_stuck_read_only_member_replicates_afresh(pair, monkeypatch):
    leader, member = pair
    monkeypatch.setattr(heartbeat, 'STALLED_AFTER', 0.0)
    for i in range(3):
        leader.propose(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': 'site-a',
                'kind': 'test',
                'severity': 'info',
                'message': 'm',
            },
        )
    wait_for(lambda: len(member.read('alerts')) == 3, 'replication')
    member._sender.stop()
    leader.heartbeats.clear()
    commit = leader.runner.status()['commit_index']
    # The leader's verdict on a member that reports an old index.
    reply = control.call(
        leader.address,
        leader.credentials,
        'heartbeat',
        site='site-b',
        applied=1,
    )
    assert reply['behind'] == 1
    assert leader.heartbeats.marked('behind') == {'site-b': 1}
    member.behind(1)
    assert 'applies nothing' in member.problem
    aside = [
        name
        for name in os.listdir(member.settings.data_dir)
        if '.behind-' in name
    ]
    assert aside, os.listdir(member.settings.data_dir)
    wait_for(
        lambda: (
            member.runner.status()['last_applied'] >= commit
            and len(member.read('alerts')) == 3
        ),
        'the member to replicate afresh',
    )
    member.behind(None)
    assert member.problem is None
    # Its index moved since the last report: slow at worst, not stuck.
    monkeypatch.setattr(heartbeat, 'STALLED_AFTER', 30.0)
    reply = control.call(
        leader.address,
        leader.credentials,
        'heartbeat',
        site='site-b',
        applied=member.runner.status()['last_applied'],
    )
    assert 'behind' not in reply
    assert leader.heartbeats.marked('behind') == {}


def test_a_stuck_voter_is_fenced_until_it_applies_again(pair):
    leader, _member = pair
    assert leader.in_quorum()
    leader.behind(12)
    assert not leader.in_quorum()
    assert 'Exec is fenced' in leader.problem
    leader.behind(None)
    assert leader.in_quorum() and leader.problem is None
