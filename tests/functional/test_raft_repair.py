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

"""A former leader with entries it never sent catches up again.

The scenario that left voters behind for ever with pysyncobj 0.3.17's log
repair (sodos.kb.raft.repair): a leader appends entries of its own term,
is cut off before sending them, the others elect a new leader and commit
thousands of entries, and the former leader comes back from its journal.
It must drop its unsent entries and apply everything the others
committed. Shown twice: with three bare SyncObjs, and with three sodos
Raft members.
"""

import os
import threading
import time

import pytest
from oslo_config import cfg
from pysyncobj import SyncObjConf
from pysyncobj import SyncObjConsumer
from pysyncobj import SyncObjException
from pysyncobj import replicated

from sodos import conf as sodos_conf
from sodos.kb import commands
from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft.repair import RepairingSyncObj
from sodos.sim import ports
from tests.functional.polling import wait_until

UNSENT = 5
WRITES = 3000
CATCH_UP = 60.0


def wait_for(predicate, what, timeout):
    wait_until(predicate, what, timeout, interval=0.05)


def cut_off(obj):
    """Make ``obj`` send nothing more, as if its links were cut."""
    obj._SyncObj__transport.send = lambda node, message: None


# -- three bare SyncObjs --------------------------------------------------


class Blobs(SyncObjConsumer):
    def __init__(self):
        super().__init__()
        self.tags = []

    @replicated
    def put(self, tag, blob):
        self.tags.append(tag)


class Node:
    """A SyncObj ticked by a thread of its own, on its own journal."""

    def __init__(self, address, others, data_dir):
        self.address, self.others, self.data_dir = address, others, data_dir
        self.stopping = threading.Event()
        self.build()

    def build(self):
        self.blobs = Blobs()
        conf = SyncObjConf(
            autoTick=False,
            journalFile=os.path.join(self.data_dir, 'journal'),
            fullDumpFile=os.path.join(self.data_dir, 'dump'),
        )
        self.obj = RepairingSyncObj(
            self.address, self.others, conf, consumers=[self.blobs]
        )
        self.stopping.clear()
        self.thread = threading.Thread(target=self.tick, daemon=True)
        self.thread.start()

    def tick(self):
        while not self.stopping.is_set():
            self.obj.doTick(0.01)

    def halt(self):
        """Stop ticking: the node neither sends nor receives any more."""
        self.stopping.set()
        self.thread.join()

    def stop(self):
        self.halt()
        self.obj.destroy()

    def status(self):
        return self.obj.getStatus()


@pytest.fixture
def nodes(tmp_path):
    addresses = [ports.free_address() for _ in range(3)]
    made = []
    for i, address in enumerate(addresses):
        data_dir = tmp_path / str(i)
        data_dir.mkdir()
        others = [a for a in addresses if a != address]
        made.append(Node(address, others, str(data_dir)))
    yield made
    for node in made:
        if node.thread.is_alive():
            node.stop()


def leader_of(nodes, excluding=None):
    for node in nodes:
        if node is not excluding and node.obj._isLeader():
            return node
    return None


def committed_through_a_leader(nodes, tag):
    """Commit one blob, retrying while the first elections settle."""
    deadline = time.monotonic() + 30
    while True:
        wait_for(lambda: leader_of(nodes), 'a leader', 30)
        leader = leader_of(nodes)
        try:
            if leader is not None:
                leader.blobs.put(tag, b'x' * 1024, sync=True, timeout=5)
                return
        except SyncObjException:
            if time.monotonic() > deadline:
                raise


def test_syncobj_former_leader_with_unsent_entries_catches_up(nodes):
    for i in range(20):
        committed_through_a_leader(nodes, 'before-%d' % i)
    old = leader_of(nodes)

    # Entries of the old leader's term that no one else ever sees.
    old.halt()
    cut_off(old.obj)
    last = old.status()['log_len']
    for i in range(UNSENT):
        old.blobs.put('unsent-%d' % i, b'u' * 1024)
    old.obj._checkCommandsToApply()
    assert old.status()['log_len'] == last + UNSENT
    wait_for(lambda: leader_of(nodes, excluding=old), 'a new leader', 30)
    old.obj.destroy()
    new = leader_of(nodes, excluding=old)
    written = threading.Event()
    done = []

    def committed(_result, error):
        done.append(error)
        if len(done) == WRITES:
            written.set()

    for i in range(WRITES):
        new.blobs.put('after-%d' % i, b'n' * 1024, callback=committed)
    assert written.wait(120), 'only %d writes answered' % len(done)
    assert set(done) == {0}
    target = new.status()['last_applied']

    old.build()  # restarted from its journal and dump
    wait_for(
        lambda: old.status()['last_applied'] >= target,
        'the former leader to apply what the others committed',
        CATCH_UP,
    )
    assert old.blobs.tags[: len(new.blobs.tags)] == new.blobs.tags
    assert not [tag for tag in old.blobs.tags if tag.startswith('unsent')]


# -- three sodos Raft members ---------------------------------------------

SODOS_WRITES = 2000


@pytest.fixture
def make_conf(tmp_path, site_tls):
    def make(site, **raft):
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        conf([], project='sodos', default_config_files=[])
        conf.set_override('site_name', site)
        conf.set_override('state_path', str(tmp_path / site))
        conf.set_override('data_dir', str(tmp_path / site / 'raft'), 'raft')
        conf.set_override('password', 'test-password', 'raft')
        for name, value in site_tls.items():
            conf.set_override(name, value, 'raft')
        conf.set_override('address', ports.free_address(), 'raft')
        for name, value in raft.items():
            conf.set_override(name, value, 'raft')
        return conf

    return make


@pytest.fixture
def members(make_conf):
    first = raft_backend.RaftBackend(make_conf('site-a', voter_count=3))
    running = [first]
    first.start()
    try:
        assert first.wait_ready(30), first.problem
        for site in ('site-b', 'site-c'):
            member = raft_backend.RaftBackend(
                make_conf(site, voter_count=3, join=[first.address])
            )
            running.append(member)
            member.start()
            assert member.wait_ready(30), member.problem
        wait_for(
            lambda: all(m.runner.voter for m in running),
            'three voters',
            60,
        )
        yield running
    finally:
        for member in running:
            member.stop()


def alert_wire(member, n):
    return commands.make(
        'alert.raise',
        {
            'alert_id': '%032x' % n,
            'site': member.site,
            'kind': 'repair-test',
            'severity': 'info',
            'message': 'entry %d' % n,
        },
        member.site,
    ).to_wire()


def sodos_leader(members, excluding=None):
    for member in members:
        if member is not excluding and member.is_leader():
            return member
    return None


def test_sodos_former_leader_with_unsent_entries_catches_up(members):
    wait_for(lambda: sodos_leader(members), 'a leader', 30)
    old = sodos_leader(members)
    for n in range(20):
        assert old.submit_async(
            commands.make(
                'alert.raise',
                {
                    'alert_id': '%032x' % n,
                    'site': old.site,
                    'kind': 'repair-test',
                    'severity': 'info',
                    'message': 'entry %d' % n,
                },
                old.site,
            ),
            timeout=30,
        ).result()['ok']
    appended = threading.Event()
    restart = threading.Event()

    def freeze_then_restart(obj):
        """In the old leader's tick thread: unsent entries, then frozen
        until the others moved on, then rebuilt on its journal."""
        cut_off(obj)
        for n in range(UNSENT):
            wire = alert_wire(old, 10_000 + n)
            old.runner._consumer.apply(wire, callback=lambda *_: None)
        obj._checkCommandsToApply()
        appended.set()
        restart.wait(300)
        voters = list(obj._SyncObj__otherNodes)
        obj.destroy()
        old.runner._build(
            True, [old.address] + [n.address for n in voters], hold=False
        )

    frozen = threading.Thread(
        target=old.runner.call, args=(freeze_then_restart, 400)
    )
    frozen.start()
    try:
        assert appended.wait(30)
        wait_for(
            lambda: sodos_leader(members, excluding=old), 'a new leader', 60
        )
        new = sodos_leader(members, excluding=old)
        futures = [
            new.submit_async(
                commands.make(
                    'alert.raise',
                    {
                        'alert_id': '%032x' % (100 + n),
                        'site': new.site,
                        'kind': 'repair-test',
                        'severity': 'info',
                        'message': 'entry %d ' % n + 'x' * 400,
                    },
                    new.site,
                ),
                timeout=120,
            )
            for n in range(SODOS_WRITES)
        ]
        for future in futures:
            assert future.result()['ok']
    finally:
        restart.set()
        frozen.join()
    alerts = new.read('alerts')
    assert len(alerts) == 20 + SODOS_WRITES
    wait_for(
        lambda: old.read('alerts') == alerts,
        'the former leader to hold what the others committed',
        CATCH_UP,
    )
    assert old.runner.fingerprint() == new.runner.fingerprint()
