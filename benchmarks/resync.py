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

"""How long a member that replicates afresh takes to catch up.

    python benchmarks/resync.py [--quick] [--entries 2000,5000,10000]
        [--dump] [--busy 8] [--max-inflight BYTES]

A leader (a lone voter) holds ``--entries`` Knowledge Base commands of
about 1 KiB (``alert.raise``); a member with no state then joins as a
read-only member, as a site does after a bit flip or a churn, and the
time until it has applied the leader's commit index is measured. Both
members run in this process, each ticked by its own RaftRunner thread,
with the SyncObjConf sodos builds from its default ``[raft]`` options
(journal synced per batch, frames bounded, entries sent as they arrive).
``--dump`` compacts the leader's log first: the member then receives
the snapshot and the entries written after it.

``--busy K`` runs K processes that spin for the whole run (stopped by
their pid at the end): the loaded machine the fault suite runs on (load
averages of 10 to 26 on two cores), where the difference shows.

Each size runs twice, alternately: ``before``, as sodos was before (its
leader moving ``nextIndex`` back to every success, as pysyncobj does; a
busy member dropping its connection to a leader whose bytes wait in the
socket; no bound on the entries in flight), and ``after``, with all three
fixed (sodos.kb.raft.repair, sodos.kb.raft.frames, sodos.kb.raft.window
with the default ``[raft]max_inflight_bytes``). ``copies`` is how many
times the member received each entry on average; ``reconnects`` how many
times it connected to the leader again; ``in_flight_kib`` the most the
leader had sent the member and not seen acknowledged.
``--max-inflight`` sets ``[raft]max_inflight_bytes`` for ``after``.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from oslo_config import cfg  # noqa: E402
from pysyncobj import tcp_connection  # noqa: E402

from sodos import conf as sodos_conf  # noqa: E402
from sodos.kb import commands  # noqa: E402
from sodos.kb.raft import eager  # noqa: E402
from sodos.kb.raft import frames  # noqa: E402
from sodos.kb.raft import journal  # noqa: E402
from sodos.kb.raft import repair  # noqa: E402
from sodos.kb.raft import runner as raft_runner  # noqa: E402
from sodos.kb.raft import settings  # noqa: E402
from sodos.sim import ports  # noqa: E402

CATCH_UP_TIMEOUT = 900.0
WRITE_TIMEOUT = 600.0


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Counting(eager.EagerSyncObj):
    """The SyncObj sodos runs, counting the entries it receives and the
    read-only members that connect to it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.received: collections.Counter[int] = collections.Counter()
        self.connects = 0
        self.most_in_flight = 0
        super().__init__(*args, **kwargs)

    def _send(self, send: Any, node: Any, message: Any) -> Any:
        sent = super()._send(send, node, message)
        self.most_in_flight = max(
            self.most_in_flight, self.inflight_bytes(node)
        )
        return sent

    def _SyncObj__onReadonlyNodeConnected(self, node: Any) -> None:
        self.connects += 1
        super()._SyncObj__onReadonlyNodeConnected(node)

    def _SyncObj__onMessageReceived(self, node: Any, message: Any) -> None:
        if isinstance(message, dict) and message.get('type') == (
            'append_entries'
        ):
            self.received.update(e[1] for e in message.get('entries') or ())
        super()._SyncObj__onMessageReceived(node, message)


def member(root: str, site: str, max_inflight: int) -> raft_runner.RaftRunner:
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    address = ports.free_address()
    data_dir = os.path.join(root, site, 'raft')
    os.makedirs(data_dir)
    conf.set_override('site_name', site)
    conf.set_override('state_path', os.path.join(root, site))
    conf.set_override('address', address, 'raft')
    conf.set_override('data_dir', data_dir, 'raft')
    conf.set_override('password', 'benchmark-password', 'raft')
    # Loopback, in one process: no TLS needed for the Raft port itself.
    conf.set_override('insecure_dev_mode', True, 'raft')
    if max_inflight:
        conf.set_override('max_inflight_bytes', max_inflight, 'raft')
    found = settings.load(conf)
    journal.configure(found.journal, conf.raft.fsync)
    frames.install(conf.raft.max_frame_bytes)
    return raft_runner.RaftRunner(
        address,
        lambda voter: settings.syncobj_conf(conf, found, voter),
        lambda wire, result: None,
        lambda voters: None,
    )


def wire(i: int) -> dict[str, Any]:
    return commands.make(
        'alert.raise',
        {
            'alert_id': '%032x' % i,
            'site': 'leader',
            'kind': 'benchmark',
            'severity': 'info',
            'message': 'm' * 900,
        },
        'leader',
    ).to_wire()


def until(what: str, done: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit('resync: timed out waiting for ' + what)
        time.sleep(0.05)


TIMEOUT = '_TcpConnection__processConnectionTimeout'
UNBOUNDED = 1 << 40


def case(
    entries: int, dump: bool, fixed: bool, max_inflight: int
) -> dict[str, Any]:
    keep = repair.RepairingSyncObj._keep_next_index
    timeout = getattr(frames.BoundedTcpConnection, TIMEOUT)
    if not fixed:
        repair.RepairingSyncObj._keep_next_index = (  # type: ignore
            lambda self, node, sent_up_to: None
        )
        setattr(
            frames.BoundedTcpConnection,
            TIMEOUT,
            getattr(tcp_connection.TcpConnection, TIMEOUT),
        )
        # No window: the whole log in flight at once, as before.
        max_inflight = UNBOUNDED
    root = tempfile.mkdtemp(prefix='sodos-resync-')
    leader = fresh = None
    try:
        leader = member(root, 'leader', max_inflight)
        leader.start(True, [leader.address])
        futures = [
            leader.submit(wire(i), WRITE_TIMEOUT) for i in range(entries)
        ]
        for future in futures:
            future.result(WRITE_TIMEOUT)
        if dump:
            leader.call(lambda obj: obj.forceLogCompaction())
            until(
                'the compaction',
                lambda: (
                    leader.call(lambda obj: obj._SyncObj__raftLog[0][1])
                    > entries // 2
                ),
                WRITE_TIMEOUT,
            )
        commit = leader.call(lambda obj: obj._SyncObj__raftCommitIndex)
        first = leader.call(lambda obj: obj._SyncObj__raftLog[0][1])
        fresh = member(root, 'fresh', max_inflight)
        started = time.monotonic()
        fresh.start(False, [leader.address])
        until(
            'the fresh member',
            lambda: fresh.call(lambda obj: obj.raftLastApplied) >= commit,
            CATCH_UP_TIMEOUT,
        )
        seconds = time.monotonic() - started
        received = fresh.call(lambda obj: sum(obj.received.values()))
        connects = leader.call(lambda obj: obj.connects)
        in_flight = leader.call(lambda obj: obj.most_in_flight)
        sent = max(commit - first, 1)
        return {
            'entries': entries,
            'catch_up_s': round(seconds, 2),
            'entries_received': received,
            'copies': round(received / sent, 2),
            'reconnects': max(connects - 1, 0),
            'most_in_flight_kib': in_flight // 1024,
        }
    finally:
        repair.RepairingSyncObj._keep_next_index = keep  # type: ignore
        setattr(frames.BoundedTcpConnection, TIMEOUT, timeout)
        for made in (fresh, leader):
            if made is not None:
                made.stop()
        shutil.rmtree(root, ignore_errors=True)


def spinners(count: int) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen([sys.executable, '-c', 'while True: pass'])
        for _ in range(count)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--quick', action='store_true')
    parser.add_argument('--entries', default='2000,5000,10000')
    parser.add_argument('--dump', action='store_true')
    parser.add_argument('--busy', type=int, default=0)
    parser.add_argument('--max-inflight', type=int, default=0)
    args = parser.parse_args()
    sizes = [500] if args.quick else [int(n) for n in args.entries.split(',')]
    logging.basicConfig(level=logging.ERROR)
    journal.install()
    raft_runner.EagerSyncObj = Counting  # type: ignore
    curve = []
    busy = spinners(args.busy)
    try:
        for entries in sizes:
            point: dict[str, Any] = {'entries': entries}
            for fixed in (False, True):
                name = 'after' if fixed else 'before'
                result = case(entries, args.dump, fixed, args.max_inflight)
                log('%s %d entries: %s' % (name, entries, result))
                point[name + '_s'] = result['catch_up_s']
                point[name + '_copies'] = result['copies']
                point[name + '_reconnects'] = result['reconnects']
                point[name + '_in_flight_kib'] = result['most_in_flight_kib']
            curve.append(point)
        load = os.getloadavg()[0]
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    last = curve[-1]
    print(
        json.dumps(
            {
                'dump': args.dump,
                'busy': args.busy,
                'curve': curve,
                'entries': last['entries'],
                'before_s': last['before_s'],
                'after_s': last['after_s'],
                'before_copies': last['before_copies'],
                'after_copies': last['after_copies'],
                'before_reconnects': last['before_reconnects'],
                'after_reconnects': last['after_reconnects'],
                'before_in_flight_kib': last['before_in_flight_kib'],
                'after_in_flight_kib': last['after_in_flight_kib'],
                'max_inflight': args.max_inflight or None,
                'load_average': round(load, 1),
            }
        )
    )


if __name__ == '__main__':
    main()
