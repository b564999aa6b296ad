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

"""KB members for scale_members.py, in a process of their own.

``voter`` runs one voter (so that the leader's process holds the leader
alone and its CPU is the leader's); ``members`` runs many read-only
members in one process. Every member is sodos's own SyncObj
(:class:`sodos.kb.raft.eager.EagerSyncObj`, the Raft traffic framed by
:mod:`sodos.kb.raft.frames`, encrypted with the federation password)
with the KB's consumer (:class:`sodos.kb.raft.consumer.KBConsumer`) over
real TCP on 127.0.0.1. What makes them light: journals in memory, and
one thread ticks every member of the process off one shared epoll
(a member is ticked as soon as a message reaches it, and all of them
every :data:`FULL_TICK` seconds for their timers).

The first ``--kb`` of the names are KB members; the first ``--gossip``
run the gossip (:mod:`sodos.knowmon.gossip`: the SWIM state machine and the
transport's sealed datagrams), each on a UDP socket of its own; one more
thread drives all of a process's gossip members off one selector.

Driven by JSON lines on stdin and stdout (benchmarks/_child.py).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import select
import selectors
import socket
import sys
import threading
import time
from typing import Any

import _child
from oslo_config import cfg
from pysyncobj import poller as pysyncobj_poller
from pysyncobj import syncobj as pysyncobj_syncobj
from pysyncobj.monotonic import monotonic

from sodos import conf as sodos_conf
from sodos.kb import commands
from sodos.kb.raft import frames
from sodos.kb.raft import settings
from sodos.kb.raft.consumer import KBConsumer
from sodos.kb.raft.eager import EagerSyncObj
from sodos.knowmon.gossip import detector
from sodos.knowmon.gossip import swim
from sodos.knowmon.gossip import transport

# Seconds between two ticks of every member of a process (their timers:
# reconnects, the journal's second); messages are handled at once.
FULL_TICK = 0.25
FEDERATION = 'scale-members'
GOSSIP_KEY = transport.derive_key(b'scale-members-benchmark')
SUMMARY = {'cpu': 0.42, 'ram': 0.61, 'vms': 17, 'state': 'ok'}


class EpollPoller(pysyncobj_poller.Poller):
    """pysyncobj's poller interface on epoll, shared by every member of
    the process (its own PollPoller would poll() each member's sockets
    once per member per tick)."""

    def __init__(self) -> None:
        self._epoll = select.epoll()
        self._callbacks: dict[int, Any] = {}

    def subscribe(self, descr: int, callback: Any, eventMask: int) -> None:
        mask = 0
        if eventMask & pysyncobj_poller.POLL_EVENT_TYPE.READ:
            mask |= select.EPOLLIN
        if eventMask & pysyncobj_poller.POLL_EVENT_TYPE.WRITE:
            mask |= select.EPOLLOUT
        if eventMask & pysyncobj_poller.POLL_EVENT_TYPE.ERROR:
            mask |= select.EPOLLERR
        self._callbacks[descr] = callback
        try:
            self._epoll.register(descr, mask)
        except FileExistsError:
            self._epoll.modify(descr, mask)

    def unsubscribe(self, descr: int) -> None:
        self._callbacks.pop(descr, None)
        try:
            self._epoll.unregister(descr)
        except (KeyError, OSError):
            pass

    def poll(self, timeout: float) -> None:
        for descr, event in self._epoll.poll(max(timeout, 0.0)):
            mask = 0
            if event & select.EPOLLIN:
                mask |= pysyncobj_poller.POLL_EVENT_TYPE.READ
            if event & select.EPOLLOUT:
                mask |= pysyncobj_poller.POLL_EVENT_TYPE.WRITE
            if event & (select.EPOLLERR | select.EPOLLHUP):
                mask |= pysyncobj_poller.POLL_EVENT_TYPE.ERROR
            callback = self._callbacks.get(descr)
            if callback is not None:
                callback(descr, mask)


SHARED = EpollPoller()
DIRTY: set[Any] = set()


class Member(EagerSyncObj):
    """sodos's SyncObj, noting that a message reached it so that the
    loop ticks it (and applies what it learnt) at once."""

    def _SyncObj__onMessageReceived(self, node: Any, message: Any) -> None:
        DIRTY.add(self)
        super()._SyncObj__onMessageReceived(node, message)


def syncobj_conf(
    address: str, password: str, voter: bool, raft: dict[str, Any]
) -> Any:
    """sodos's SyncObjConf with ``raft`` over its defaults, journals in
    memory."""
    conf = _defaults()
    for name, value in raft.items():
        conf.set_override(name, value, 'raft')
    host, port = settings.split_address(address, 'address')
    found = settings.Settings(
        address=address,
        host=host,
        port=port,
        bind_host=host,
        data_dir='',
        password=password,
        join=(),
    )
    made = settings.syncobj_conf(conf, found, voter)
    made.journalFile = None
    made.fullDumpFile = None
    return made


def command(origin: str, seq: int) -> dict[str, Any]:
    return commands.make(
        'monitoring.report',
        {'site': origin, 'summary': dict(SUMMARY, seq=seq)},
        origin,
    ).to_wire()


class Stamps:
    """When each marked entry was applied here (wall clock: one machine)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}

    def __call__(self, wire: dict[str, Any], _result: Any) -> None:
        if wire.get('origin') == 'writer':
            self.at[wire['id']] = time.time()


# -- the voter ------------------------------------------------------------


class Voter:
    def __init__(self, args: argparse.Namespace) -> None:
        self.stamps = Stamps()
        self.consumer = KBConsumer(self.stamps)
        self.obj = EagerSyncObj(
            args.address,
            [p for p in args.peers if p != args.address],
            syncobj_conf(args.address, args.password, True, args.raft),
            consumers=[self.consumer],
        )
        self._stop = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.obj.doTick(0.05)

    def status(self) -> dict[str, Any]:
        raw = self.obj.getStatus()
        return {
            'is_leader': raw['state'] == 2,
            'leader': getattr(raw.get('leader'), 'address', None),
            'readonly': raw.get('readonly_nodes_count', 0),
            'commit_index': raw['commit_idx'],
        }

    def write(self, rate: float, seconds: float) -> dict[str, Any]:
        """Commit ``rate`` marked entries a second for ``seconds``."""
        start = monotonic()
        sent = failed = 0
        results: list[int] = []
        ids: list[str] = []

        def done(_result: Any, error: int) -> None:
            results.append(error)

        while monotonic() - start < seconds:
            wire = command('writer', sent)
            ids.append(wire['id'])
            self.consumer.apply(wire, callback=done)
            sent += 1
            wait = start + sent / rate - monotonic()
            if wait > 0:
                time.sleep(wait)
        deadline = monotonic() + 10
        while len(results) < sent and monotonic() < deadline:
            time.sleep(0.05)
        failed = sum(1 for e in results if e != 0) + sent - len(results)
        at = self.stamps.at
        return {
            'sent': sent,
            'failed': failed,
            'stamps': {i: at[i] for i in ids if i in at},
        }

    def stop(self) -> None:
        self._stop.set()


# -- the read-only members ------------------------------------------------


class Gossip:
    """The gossip of every member of this process, on one thread."""

    def __init__(self, names: list[str]) -> None:
        self.params = detector.params_from(_defaults())
        self.socks: dict[str, socket.socket] = {}
        self.nodes: dict[str, swim.Swim] = {}
        self.addresses: dict[str, tuple[str, int]] = {}
        self.lock = threading.Lock()
        self.selector = selectors.DefaultSelector()
        for name in names:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(('127.0.0.1', 0))
            sock.setblocking(False)
            self.socks[name] = sock
            self.selector.register(sock, selectors.EVENT_READ, name)
        self.watch: dict[str, Any] = {}
        self.seen_dead: dict[str, float] = {}
        # (observer, member) pairs ever held dead that were not killed.
        self.false_dead: set[tuple[str, str]] = set()
        self.dropped = 0

    def bound(self) -> dict[str, list[Any]]:
        return {n: list(s.getsockname()) for n, s in self.socks.items()}

    def set_members(self, addresses: dict[str, list[Any]]) -> None:
        now = monotonic()
        with self.lock:
            self.addresses = {n: (a[0], a[1]) for n, a in addresses.items()}
            for name in self.socks:
                node = self.nodes.get(name)
                if node is None:
                    self.nodes[name] = swim.Swim(
                        name,
                        FEDERATION,
                        self.addresses,
                        self.params,
                        random.Random(),
                        now,
                        incarnation=int(time.time() * 1000),
                    )
                else:
                    node.set_members(self.addresses, now)

    def start_watch(self, victims: list[str]) -> None:
        with self.lock:
            self.watch = {'victims': set(victims)}
            self.seen_dead = {}

    def run(self) -> None:
        tick = self.params.probe_interval / 10
        next_tick = next_check = monotonic()
        while True:
            for key, _ in self.selector.select(tick / 2):
                self._receive(key.data, key.fileobj)  # type: ignore[arg-type]
            now = monotonic()
            if now >= next_tick:
                with self.lock:
                    nodes = list(self.nodes.values())
                for node in nodes:
                    self._send(node, node.on_tick(now))
                next_tick = now + tick
            if now >= next_check:
                self._check()
                next_check = now + 0.1

    def _check(self) -> None:
        victims = self.watch.get('victims', set())
        wall = time.time()
        with self.lock:
            for name, node in self.nodes.items():
                if name in victims:
                    continue
                dead = node.dead()
                self.false_dead.update((name, m) for m in dead - victims)
                if victims and name not in self.seen_dead and victims <= dead:
                    self.seen_dead[name] = wall

    def _receive(self, name: str, sock: socket.socket) -> None:
        try:
            datagram, _ = sock.recvfrom(transport.MAX_DATAGRAM + 1)
        except OSError:
            return
        node = self.nodes.get(name)
        try:
            message = transport.unseal(GOSSIP_KEY, datagram)
        except transport.Refused:
            self.dropped += 1
            return
        if node is None:
            return
        self._send(node, node.on_message(message, monotonic()))

    def _send(self, node: swim.Swim, outs: list[swim.Outgoing]) -> None:
        sock = self.socks[node.me]
        for out in outs:
            address = self.addresses.get(out.to)
            if address is None:
                continue
            datagram = transport.seal(GOSSIP_KEY, node.payload(out))
            try:
                sock.sendto(datagram, address)
            except OSError:
                self.dropped += 1


def _defaults() -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    return conf


class Members:
    def __init__(self, args: argparse.Namespace) -> None:
        # Every SyncObj built from now on polls the one shared epoll.
        pysyncobj_syncobj.createPoller = lambda _kind: SHARED
        self.names = args.names[: args.kb]
        self.stamps = {name: Stamps() for name in self.names}
        self.objs = [
            Member(
                None,
                args.peers,
                syncobj_conf(args.peers[0], args.password, False, args.raft),
                consumers=[KBConsumer(self.stamps[name])],
            )
            for name in self.names
        ]
        self.gossip = Gossip(args.names[: args.gossip])
        threading.Thread(target=self._loop, daemon=True).start()
        threading.Thread(target=self.gossip.run, daemon=True).start()

    def _loop(self) -> None:
        next_full = monotonic()
        while True:
            now = monotonic()
            if now >= next_full:
                for obj in self.objs:
                    obj.doTick(0)
                DIRTY.clear()
                next_full = now + FULL_TICK
            while DIRTY:
                DIRTY.pop().doTick(0)
            SHARED.poll(max(0.0, min(next_full - monotonic(), FULL_TICK)))

    def status(self) -> dict[str, Any]:
        applied = [obj.raftLastApplied for obj in self.objs]
        return {'members': len(self.objs), 'applied_min': min(applied or [0])}

    def lags(self, committed: dict[str, float]) -> dict[str, Any]:
        lags: list[float] = []
        missing = 0
        for stamps in self.stamps.values():
            for entry, at in committed.items():
                mine = stamps.at.get(entry)
                if mine is None:
                    missing += 1
                else:
                    lags.append(mine - at)
        return {'lags': [round(x, 4) for x in lags], 'missing': missing}


# -- the process ----------------------------------------------------------


def handle(host: Any, request: dict[str, Any]) -> dict[str, Any]:
    op = request['op']
    if op == 'status':
        return host.status()
    if op == 'write':
        return host.write(request['rate'], request['seconds'])
    if op == 'gossip_addresses':
        return host.gossip.bound()
    if op == 'gossip_members':
        host.gossip.set_members(request['addresses'])
        return {}
    if op == 'watch':
        host.gossip.start_watch(request['victims'])
        return {}
    if op == 'seen_dead':
        with host.gossip.lock:
            return {
                'at': dict(host.gossip.seen_dead),
                'false_dead': sorted(host.gossip.false_dead),
            }
    if op == 'lags':
        return host.lags(request['committed'])
    raise ValueError('unknown request %r' % op)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('role', choices=['voter', 'members'])
    parser.add_argument('--address', help='the voter: its HOST:PORT')
    parser.add_argument('--peers', type=lambda s: s.split(','), required=True)
    parser.add_argument('--names', type=lambda s: s.split(','), default=[])
    parser.add_argument('--password', required=True)
    parser.add_argument(
        '--kb', type=int, default=None, help='the first KB members (all)'
    )
    parser.add_argument(
        '--gossip', type=int, default=0, help='the first that gossip'
    )
    parser.add_argument(
        '--raft',
        type=json.loads,
        default={},
        help='[raft] options over the defaults, as a JSON object',
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    reply = _child.replies()
    args = parse(argv)
    frames.install()
    host: Any = Voter(args) if args.role == 'voter' else Members(args)
    reply({'started': os.getpid()})
    _child.serve(reply, lambda request: handle(host, request))
    return 0


if __name__ == '__main__':
    code = main(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)
