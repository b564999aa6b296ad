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

"""Entries sent as they arrive (sodos.kb.raft.eager), on three members.

The members tick in this thread only (autoTick off), so what a tick sends
is exactly known. Once a leader is elected its heartbeats are suspended:
every commit that follows can only come from entries sent at once.
"""

import select

import pytest
from pysyncobj import FAIL_REASON
from pysyncobj import SyncObjConf
from pysyncobj.batteries import ReplCounter
from pysyncobj.monotonic import monotonic

from sodos.kb.raft.eager import EagerSyncObj
from sodos.sim import ports

NEVER = 3600.0


def tick(members, until, what, rounds=5000):
    for _ in range(rounds):
        for member in members:
            member.obj.doTick(0.002)
        if until():
            return
    raise AssertionError('not reached: ' + what)


class Member:
    def __init__(self, address, others):
        self.counter = ReplCounter()
        conf = SyncObjConf(
            autoTick=False,
            appendEntriesUseBatch=False,
            appendEntriesPeriod=0.05,
            raftMinTimeout=0.3,
            raftMaxTimeout=0.6,
        )
        self.obj = EagerSyncObj(
            address, others, conf, consumers=[self.counter]
        )
        self.sent = []
        transport = self.obj._SyncObj__transport
        send = transport.send

        def recording(node, message):
            if message.get('type') == 'append_entries' and message.get(
                'entries'
            ):
                self.sent.append((node, len(message['entries'])))
            return send(node, message)

        transport.send = recording

    def no_more_timers(self):
        """No heartbeat from this member, no election by it."""
        conf = self.obj._SyncObj__conf
        conf.appendEntriesPeriod = NEVER
        conf.raftMinTimeout = conf.raftMaxTimeout = NEVER
        self.obj._SyncObj__newAppendEntriesTime = monotonic() + NEVER
        self.obj._SyncObj__raftElectionDeadline = monotonic() + NEVER


@pytest.fixture
def members():
    addresses = [ports.free_address() for _ in range(3)]
    made = [Member(a, [o for o in addresses if o != a]) for a in addresses]
    yield made
    for member in made:
        member.obj.destroy()


def test_entries_go_out_at_once_and_together(members):
    tick(members, lambda: any(m.obj._isLeader() for m in members), 'leader')
    leader = next(m for m in members if m.obj._isLeader())
    followers = [m for m in members if m is not leader]
    tick(
        members,
        lambda: all(m.obj._isReady() for m in members),
        'every member caught up',
    )
    for member in members:
        member.no_more_timers()
        member.sent.clear()

    done = []
    for _ in range(10):
        leader.counter.inc(callback=lambda r, e: done.append(e))
    leader.obj.doTick(0.0)
    # The ten commands queued together left in one message per follower.
    assert sorted(n for _, n in leader.sent) == [10, 10]

    tick(
        members,
        lambda: all(m.counter.get() == 10 for m in members),
        'the ten commands applied everywhere, with no heartbeat',
    )
    assert done == [FAIL_REASON.SUCCESS] * 10

    # A write made on a follower: forwarded, appended, sent, committed,
    # and the follower learns of the commit, all without a heartbeat.
    answer = []
    followers[0].counter.inc(callback=lambda r, e: answer.append(e))
    tick(members, lambda: answer, "the follower's write answered")
    assert answer == [FAIL_REASON.SUCCESS]
    tick(
        members,
        lambda: all(m.counter.get() == 11 for m in members),
        "the follower's write applied everywhere",
    )


def readable(fd):
    return bool(select.select([fd], [], [], 0)[0])


def test_a_wake_ends_the_wait_and_is_harmless_once_destroyed():
    member = Member(ports.free_address(), [])
    pipe = member.obj._wake_r
    try:
        member.obj.wake()
        member.obj.wake()
        assert readable(pipe)
        # The tick whose wait it ends reads every wake-up.
        member.obj.doTick(0.0)
        assert not readable(pipe)
    finally:
        member.obj.destroy()
    assert not member.obj._wake_open
    # A wake after destroy writes nothing anywhere; destroy twice is fine.
    member.obj.wake()
    member.obj.destroy()
