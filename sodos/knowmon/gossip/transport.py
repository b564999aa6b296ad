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


"""The gossip over UDP: one socket and one thread per site.

A datagram is an HMAC-SHA256 tag followed by the message's JSON. The key
is derived from the federation's (the control channel's) key under a
label of its own, so a tag made for one channel is worth nothing on the
other. What travels is not secret (member names, states, incarnations),
so it is authenticated, not encrypted. A replayed datagram can only repeat
old news, which the incarnation order already makes harmless.

Bad datagrams (too big, wrong tag, not JSON, not a message) are counted
by reason and dropped; nothing a peer sends can stop the thread.
"""

from __future__ import annotations

import collections
import dataclasses
import hashlib
import hmac
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from sodos import exception
from sodos import jsonsafe
from sodos.knowmon.gossip import params as gossip_params
from sodos.knowmon.gossip import swim

LOG = logging.getLogger(__name__)

# Well under the 64 KiB a UDP datagram can carry; a message with the most
# updates a member piggybacks takes a few KiB at most.
MAX_DATAGRAM = 8192
TAG_BYTES = hashlib.sha256().digest_size
_KEY_LABEL = b'sodos-gossip-v1'
# Messages are shallow: deeper nesting is refused before decoding.
_MAX_DEPTH = 4
# Seconds between two looks at the KB for the members and their addresses.
REFRESH_EVERY = 1.0
# Seconds between two log lines summing up the messages dropped since.
SAY_DROPPED_EVERY = 60.0
# Dropped in normal operation: an ack or a nack that came after its probe
# ended.
_ROUTINE = frozenset({'late ack', 'late nack'})


def derive_key(federation_key: bytes) -> bytes:
    return hmac.new(federation_key, _KEY_LABEL, hashlib.sha256).digest()


class Refused(ValueError):
    """A datagram dropped before the protocol sees it; says why."""


def seal(key: bytes, payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload, separators=(',', ':'), allow_nan=False).encode()
    return hmac.new(key, body, hashlib.sha256).digest() + body


def unseal(key: bytes, datagram: bytes) -> Any:
    """The decoded message in ``datagram``.

    :raises Refused: too big, too short, a wrong tag, or not JSON.
    """
    if len(datagram) > MAX_DATAGRAM:
        raise Refused('too big')
    if len(datagram) <= TAG_BYTES:
        raise Refused('too short')
    tag, body = datagram[:TAG_BYTES], datagram[TAG_BYTES:]
    if not hmac.compare_digest(
        tag, hmac.new(key, body, hashlib.sha256).digest()
    ):
        raise Refused('bad tag')
    try:
        return jsonsafe.loads(body, 'gossip message', _MAX_DEPTH)
    except exception.SodosError:
        raise Refused('not JSON') from None


@dataclasses.dataclass(frozen=True)
class Membership:
    """What the KB says at a look: the federation and where each member
    listens for gossip."""

    federation: str
    addresses: dict[str, tuple[str, int]]


class Endpoint:
    """Runs one member's :class:`~.swim.Swim` on a UDP socket.

    ``membership`` is asked every :data:`REFRESH_EVERY` seconds; until it
    returns something (the KB is not caught up yet), the endpoint only
    listens and drops what it hears.
    """

    def __init__(
        self,
        me: str,
        bind: tuple[str, int],
        key: bytes,
        params: gossip_params.Params,
        membership: Callable[[], Membership | None],
        on_dead: Callable[[set[str]], None] | None = None,
        incarnation: int | None = None,
    ) -> None:
        self.me = me
        self.bind = bind
        self._key = key
        self._params = params
        self._membership = membership
        self._lock = threading.Lock()
        self._node: swim.Swim | None = None
        self._addresses: dict[str, tuple[str, int]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._refused: collections.Counter[str] = collections.Counter()
        # Notified after each turn of the thread, for those waiting on
        # the view to change (see wait_until).
        self._turned = threading.Condition()
        # A restart must come back above any incarnation it had: the wall
        # clock in milliseconds is, unless the clock went back (the site
        # passes the one it registers in the KB).
        self._incarnation = (
            int(time.time() * 1000) if incarnation is None else incarnation
        )
        # The shortest time between two ticks: the protocol's deadlines
        # are kept to within it.
        self._tick = params.probe_interval / 10
        # Told, from this thread, of the members newly confirmed dead.
        self._on_dead = on_dead
        self._dead_told: set[str] = set()
        # The view's count of changes when it was last looked at for the
        # dead (:meth:`swim.Swim.changes`): most turns change nothing.
        self._changes_told: int | None = None

    # -- read by the role -------------------------------------------------

    def ready(self) -> bool:
        with self._lock:
            return self._node is not None

    def dead(self) -> set[str] | None:
        """Members the gossip confirmed dead; None before it started."""
        with self._lock:
            return None if self._node is None else self._node.dead()

    def view(self) -> dict[str, tuple[str, int]]:
        with self._lock:
            return {} if self._node is None else self._node.view()

    def vouch(self, registered: dict[str, int]) -> list[str]:
        """:meth:`.swim.Swim.vouch` for the incarnations members
        ``registered`` in the KB; the names whose belief moved."""
        with self._lock:
            if self._node is None:
                return []
            return self._node.vouch(registered, time.monotonic())

    def dropped(self) -> dict[str, int]:
        with self._lock:
            counts = collections.Counter(self._refused)
            if self._node is not None:
                counts.update(self._node.dropped)
            return dict(counts)

    def wait_until(
        self, predicate: Callable[[Endpoint], bool], timeout: float
    ) -> bool:
        """Wait until ``predicate(self)`` holds, looking again after each
        turn of the thread; False if it still does not after ``timeout``."""
        with self._turned:
            return self._turned.wait_for(lambda: predicate(self), timeout)

    # -- start and stop ---------------------------------------------------

    def start(self) -> None:
        family = socket.AF_INET6 if ':' in self.bind[0] else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind(self.bind)
        except OSError as exc:
            sock.close()
            raise exception.ConfigError(
                'gossip: cannot listen on UDP %s:%d (%s): another process '
                'holds it? See [knowmon]gossip_port_offset'
                % (self.bind[0], self.bind[1], exc.strerror or exc)
            ) from None
        sock.settimeout(self._tick)
        self._sock = sock
        self._thread = threading.Thread(
            target=self._run, name='sodos-gossip', daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10.0)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # -- the thread -------------------------------------------------------

    def _run(self) -> None:
        next_refresh = next_tick = time.monotonic()
        next_say = next_refresh + SAY_DROPPED_EVERY
        said: dict[str, int] = {}
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_refresh:
                self._refresh(now)
                next_refresh = now + REFRESH_EVERY
            if now >= next_say:
                said = self._say_dropped(said)
                next_say = now + SAY_DROPPED_EVERY
            # Sleep in the socket until a datagram comes or the next thing
            # falls due: the protocol's next deadline, but never sooner
            # than a tick after the last (the finest pace it needs).
            with self._lock:
                node = self._node
                due = node.next_due() if node is not None else next_refresh
            wake = min(max(due, next_tick), next_refresh, next_say)
            self._wait(wake - now)
            try:
                self._receive()
            except Exception:
                LOG.exception('gossip: receiving failed')
            now = time.monotonic()
            if now >= next_tick and now >= due:
                with self._lock:
                    node = self._node
                    outs = node.on_tick(now) if node is not None else []
                self._send(node, outs)
                next_tick = now + self._tick
            self._tell_dead()
            with self._turned:
                self._turned.notify_all()

    def _wait(self, seconds: float) -> None:
        """How long the next receive may block (0: not at all)."""
        sock = self._sock
        if sock is not None:
            sock.settimeout(min(max(seconds, 0.0), REFRESH_EVERY))

    def _tell_dead(self) -> None:
        """Tell ``on_dead`` of the members newly confirmed dead (at an
        incarnation above 0: see liveness.gossip_transitions)."""
        with self._lock:
            node = self._node
            changes = None if node is None else node.changes()
        if self._on_dead is None or changes == self._changes_told:
            return
        self._changes_told = changes
        dead = {
            name
            for name, (state, incarnation) in self.view().items()
            if state == swim.DEAD and incarnation > 0
        }
        new, self._dead_told = dead - self._dead_told, dead
        if new:
            try:
                self._on_dead(new)
            except Exception:
                LOG.exception('gossip: telling of dead members failed')

    def _say_dropped(self, said: dict[str, int]) -> dict[str, int]:
        counts = self.dropped()
        new = {
            reason: count - said.get(reason, 0)
            for reason, count in counts.items()
            if reason not in _ROUTINE and count > said.get(reason, 0)
        }
        if new:
            LOG.warning(
                'gossip: dropped in the last %.0f s: %s',
                SAY_DROPPED_EVERY,
                ', '.join('%s: %d' % item for item in sorted(new.items())),
            )
        return counts

    def _refresh(self, now: float) -> None:
        try:
            found = self._membership()
        except Exception as exc:
            LOG.debug('gossip: no membership yet: %s', exc)
            return
        if found is None:
            return
        with self._lock:
            self._addresses = dict(found.addresses)
            if self._node is None or self._node.federation != found.federation:
                self._node = swim.Swim(
                    self.me,
                    found.federation,
                    found.addresses,
                    self._params,
                    random.Random(),
                    now,
                    incarnation=self._incarnation,
                )
                # A new view counts its changes afresh.
                self._changes_told = None
                LOG.info(
                    'gossip: watching %d members from UDP %s:%d',
                    len(found.addresses),
                    *self.bind,
                )
            else:
                self._node.set_members(found.addresses, now)

    def _receive(self) -> None:
        sock = self._sock
        assert sock is not None
        try:
            datagram, _ = sock.recvfrom(MAX_DATAGRAM + 1)
        except (TimeoutError, BlockingIOError):
            return
        except OSError as exc:
            # ICMP unreachable from a dead peer surfaces here on some
            # systems: that peer's silence is the protocol's business.
            self._count('receive failed: %s' % (exc.strerror or exc))
            return
        try:
            message = unseal(self._key, datagram)
        except Refused as exc:
            self._count(str(exc))
            return
        now = time.monotonic()
        with self._lock:
            node = self._node
            if node is None:
                self._refused['before the KB was read'] += 1
                return
            outs = node.on_message(message, now)
        self._send(node, outs)

    def _send(self, node: swim.Swim | None, outs: list[swim.Outgoing]) -> None:
        sock = self._sock
        if node is None or sock is None:
            return
        for out in outs:
            address = self._addresses.get(out.to)
            if address is None:
                self._count('no address for %s' % out.to)
                continue
            datagram = self._fit(node, out)
            try:
                sock.sendto(datagram, address)
            except OSError as exc:
                self._count('send failed: %s' % (exc.strerror or exc))

    def _fit(self, node: swim.Swim, out: swim.Outgoing) -> bytes:
        # Names are bounded, so only a message carrying many long-named
        # updates can overflow: it goes with fewer, the rest ride later
        # messages or are refreshed by the next probes.
        message = out.message
        while True:
            datagram = seal(
                self._key,
                message.to_dict(node.federation),
            )
            if len(datagram) <= MAX_DATAGRAM or not message.updates:
                return datagram
            self._count('updates trimmed')
            message = dataclasses.replace(
                message, updates=message.updates[: len(message.updates) // 2]
            )

    def _count(self, reason: str) -> None:
        with self._lock:
            self._refused[reason] += 1
