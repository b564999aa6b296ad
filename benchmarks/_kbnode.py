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

"""One Raft member for kb_throughput.py, in a process of its own.

``--mode sodos`` runs a :class:`RaftBackend`; ``--mode raw`` runs a bare
pysyncobj ``SyncObj`` built from the very ``SyncObjConf`` sodos would use
(:func:`sodos.kb.raft.settings.syncobj_conf`), except that pysyncobj ticks
itself (``autoTick=True``, period 0.05 s, the same period as the sodos
tick thread) and the only consumer is a ``ReplDict``-like store.

The orchestrator drives the member by JSON lines on stdin and stdout
(benchmarks/_child.py). End of stdin stops the member, so it never
outlives the orchestrator.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import functools
import logging
import os
import pickle
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import _child
from oslo_config import cfg
from pysyncobj import FAIL_REASON
from pysyncobj import SyncObj
from pysyncobj import SyncObjConsumer
from pysyncobj import replicated

from sodos import conf as sodos_conf
from sodos import exception
from sodos.kb import commands
from sodos.kb.raft import backend as raft_backend
from sodos.kb.raft import settings
from sodos.sim import certs

# The monitoring summary every write carries (both modes).
SUMMARY = {'cpu': 0.42, 'ram': 0.61, 'vms': 17, 'state': 'ok'}
COMMIT_TIMEOUT = 30.0

# True: committed; False: refused; None: lost (no answer in time).
Done = Callable[[bool | None], None]


class ReplStore(SyncObjConsumer):
    """What pysyncobj's ReplDict does for ``set``, and nothing more."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, Any] = {}

    @replicated
    def set(self, key: str, value: Any) -> None:
        self.data[key] = value


def make_conf(args: argparse.Namespace) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('site_name', args.name)
    conf.set_override('roles', [])
    conf.set_override('state_path', args.data_dir)
    raft = {
        'address': args.address,
        'data_dir': os.path.join(args.data_dir, 'raft'),
        'password': args.password,
        'voter_count': args.voter_count,
        'join': args.join or [],
        'commit_timeout': COMMIT_TIMEOUT,
        'fsync': args.fsync,
        # Sites talk mutual TLS: a certificate of the run's CA.
        **certs.LocalCA(args.ca_dir).issue(args.name),
    }
    for name, value in raft.items():
        conf.set_override(name, value, 'raft')
    return conf


def wire_like(site: str) -> dict[str, Any]:
    """A dict shaped (and sized) like a sodos monitoring.report command."""
    return {
        'v': commands.SCHEMA_VERSION,
        'id': uuid.uuid4().hex,
        'type': 'monitoring.report',
        'ts': time.time(),
        'origin': site,
        'term': None,
        'args': {'site': site, 'summary': dict(SUMMARY)},
    }


class Member:
    """What the orchestrator may ask of either kind of member."""

    name: str

    def status(self) -> dict[str, Any]:
        raise NotImplementedError

    def write_sync(self) -> None:
        raise NotImplementedError

    def write_async(self, done: Done) -> None:
        raise NotImplementedError

    def payload_bytes(self) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


class RawMember(Member):
    def __init__(self, args: argparse.Namespace) -> None:
        conf = make_conf(args)
        found = settings.load(conf)
        os.makedirs(found.data_dir, mode=0o700, exist_ok=True)
        syncobj_conf = settings.syncobj_conf(conf, found)
        # pysyncobj's own tick thread (autoTickPeriod 0.05 s), as a plain
        # pysyncobj user would run it; sodos ticks from its own thread
        # with doTick(0.05): the same poll period.
        syncobj_conf.autoTick = True
        self.name = args.name
        self.address = args.address
        self.store = ReplStore()
        self.obj = SyncObj(
            args.address, args.peers, syncobj_conf, consumers=[self.store]
        )

    def status(self) -> dict[str, Any]:
        leader = self.obj._getLeader()
        return {
            'voter': True,
            'ready': self.obj.isReady(),
            'leader': getattr(leader, 'address', None),
            'is_leader': self.obj._isLeader(),
            'voters': 1 + len(self.obj.otherNodes),
        }

    def write_sync(self) -> None:
        self.store.set(
            self.name, wire_like(self.name), sync=True, timeout=COMMIT_TIMEOUT
        )

    def write_async(self, done: Done) -> None:
        def callback(_result: Any, error: int) -> None:
            done(error == FAIL_REASON.SUCCESS)

        self.store.set(self.name, wire_like(self.name), callback=callback)

    def payload_bytes(self) -> int:
        return len(pickle.dumps((self.name, wire_like(self.name))))

    def stop(self) -> None:
        self.obj.destroy()


def _outcome(future: concurrent.futures.Future[Any]) -> bool | None:
    error = future.exception()
    if isinstance(error, exception.CommitTimeout):
        return None  # as a raw write nobody answered
    return error is None and bool(future.result().get('ok'))


class SodosMember(Member):
    def __init__(self, args: argparse.Namespace) -> None:
        self.name = args.name
        self.backend = raft_backend.RaftBackend(make_conf(args))
        self.backend.start()
        if not self.backend.wait_ready(60):
            raise RuntimeError(
                'member %s did not register: %s'
                % (self.name, self.backend.problem)
            )

    def status(self) -> dict[str, Any]:
        status = self.backend.status()
        return {
            'voter': status.role == 'voter',
            'ready': status.ready,
            'leader': status.leader,
            'is_leader': status.is_leader,
            'voters': len(status.voters),
        }

    def _command(self) -> commands.Command:
        return commands.make(
            'monitoring.report',
            {'site': self.name, 'summary': dict(SUMMARY)},
            self.name,
        )

    def write_sync(self) -> None:
        self.backend.submit(self._command(), timeout=COMMIT_TIMEOUT)

    def write_async(self, done: Done) -> None:
        future = self.backend.submit_async(self._command(), COMMIT_TIMEOUT)
        future.add_done_callback(lambda f: done(_outcome(f)))

    def payload_bytes(self) -> int:
        return len(pickle.dumps((self._command().to_wire(),)))

    def stop(self) -> None:
        self.backend.stop()


def summarize(
    latencies: list[float], elapsed: float, errors: int, lost: int = 0
) -> dict[str, Any]:
    """Numbers of the writes that committed; failed ones are counted."""
    ms = sorted(x * 1000.0 for x in latencies) or [0.0]
    p99 = statistics.quantiles(ms, n=100)[98] if len(ms) > 1 else ms[0]
    return {
        'n': len(latencies),
        'errors': errors,
        'lost': lost,
        'elapsed_s': elapsed,
        'ops_s': len(latencies) / elapsed if elapsed > 0 else 0.0,
        'p50_ms': statistics.median(ms),
        'p99_ms': p99,
    }


def run_sync(member: Member, n: int) -> dict[str, Any]:
    latencies = []
    start = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        member.write_sync()
        latencies.append(time.perf_counter() - t0)
    return summarize(latencies, time.perf_counter() - start, 0)


class Pipeline:
    """Async writes with at most ``window`` outstanding.

    A write not answered within COMMIT_TIMEOUT is counted as lost and
    frees its slot: raw pysyncobj never calls back a write a follower
    forwarded if the follower then catches up by installing a snapshot;
    sodos fails such a write with CommitTimeout after the same time,
    which is counted as lost too. Throughput is measured up to the last
    answer, so waiting out the lost writes does not count.
    """

    def __init__(self, member: Member, window: int) -> None:
        self.member = member
        self.slots = threading.Semaphore(window)
        self.lock = threading.Lock()
        self.outstanding: dict[int, float] = {}
        self.latencies: list[float] = []
        self.errors = 0
        self.lost = 0
        self.last = 0.0
        self.left = 0
        self.finished = threading.Event()

    def _settle(self, key: int, ok: bool | None) -> None:
        now = time.perf_counter()
        with self.lock:
            t0 = self.outstanding.pop(key, None)
            if t0 is None:
                return  # expired already
            if ok:
                self.latencies.append(now - t0)
            elif ok is None:
                self.lost += 1
            else:
                self.errors += 1
            if ok is not None:
                self.last = now
            self.left -= 1
            if self.left == 0:
                self.finished.set()
        self.slots.release()

    def _expire(self) -> None:
        while not self.finished.wait(1.0):
            limit = time.perf_counter() - COMMIT_TIMEOUT
            with self.lock:
                old = [k for k, t0 in self.outstanding.items() if t0 < limit]
            for key in old:
                self._settle(key, None)

    def run(self, n: int) -> dict[str, Any]:
        self.left = n
        threading.Thread(target=self._expire, daemon=True).start()
        start = time.perf_counter()
        for key in range(n):
            self.slots.acquire()
            with self.lock:
                self.outstanding[key] = time.perf_counter()
            self.member.write_async(functools.partial(self._settle, key))
        self.finished.wait()
        # Up to the last answer: waiting out lost writes is not work.
        return summarize(
            self.latencies,
            max(self.last - start, 0.0),
            self.errors,
            self.lost,
        )


def run_pipelined(member: Member, n: int, window: int) -> dict[str, Any]:
    return Pipeline(member, window).run(n)


def handle(member: Member, request: dict[str, Any]) -> dict[str, Any]:
    op = request['op']
    if op == 'status':
        return member.status()
    if op == 'payload':
        return {'bytes': member.payload_bytes()}
    if op == 'sync':
        return run_sync(member, request['n'])
    if op == 'pipelined':
        return run_pipelined(member, request['n'], request['window'])
    raise ValueError('unknown request %r' % op)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--mode', choices=['raw', 'sodos'], required=True)
    parser.add_argument('--name', required=True)
    parser.add_argument('--address', required=True)
    parser.add_argument('--data-dir', required=True)
    parser.add_argument('--password', required=True)
    parser.add_argument(
        '--ca-dir', required=True, help='the CA of the run (sodos.sim.certs)'
    )
    parser.add_argument('--voter-count', type=int, default=3)
    parser.add_argument('--peers', type=lambda s: s.split(','), default=[])
    parser.add_argument('--join', type=lambda s: s.split(','), default=[])
    parser.add_argument(
        '--fsync', choices=['always', 'batch', 'off'], default='off'
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    reply = _child.replies(
        logging.INFO,
        '%(asctime)s %(threadName)s %(name)s %(levelname)s %(message)s',
    )
    args = parse(argv)
    try:
        member: Member = (
            RawMember(args) if args.mode == 'raw' else SodosMember(args)
        )
    except Exception as exc:
        logging.exception('member did not start')
        reply({'error': str(exc)})
        return 1
    reply({'started': member.name})
    _child.serve(reply, lambda request: handle(member, request))
    member.stop()
    reply({'stopped': member.name})
    return 0


if __name__ == '__main__':
    # pysyncobj and the sodos threads may linger; the member is stopped.
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
