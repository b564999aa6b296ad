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

"""TCP proxies that delay, break or swallow what goes between sites.

The kernel here has no ``tc netem``: latency and loss are made in user
space instead. Each site's Raft and control ports sit behind a proxy
(the address the site advertises), and every byte between two sites
goes through the proxy in front of the one it goes to. The proxy knows
both ends of a connection (the peer's address names the site it comes
from), and applies the :class:`Faults` of that link, looked up for
every chunk so that a fault reaches connections already open:

``delay`` and ``jitter``
    Each chunk is forwarded ``delay`` plus up to ``jitter`` seconds
    after it arrived, in order.
``drop``
    The probability, per chunk, that the connection breaks (both sides
    closed): what a lossy link ends in once TCP gives up. A byte stream
    cannot lose bytes and stay a stream.
``cut``
    Nothing is forwarded, as on a partitioned link; the connection is
    closed at its first chunk after the cut ends, since what it lost
    leaves its stream corrupt.

All proxies run on one asyncio loop in a thread of their own.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
from collections.abc import Awaitable
from collections.abc import Callable
from typing import Any

CHUNK = 65536


@dataclasses.dataclass(frozen=True)
class Faults:
    delay: float = 0.0
    jitter: float = 0.0
    drop: float = 0.0
    cut: bool = False


NONE = Faults()


class Links:
    """The faults of each link, a link being an unordered pair of names;
    safe to change from any thread."""

    def __init__(self) -> None:
        self._faults: dict[frozenset[str], Faults] = {}
        self._lock = threading.Lock()

    def set(self, a: str, b: str, faults: Faults) -> None:
        with self._lock:
            if faults == NONE:
                self._faults.pop(frozenset((a, b)), None)
            else:
                self._faults[frozenset((a, b))] = faults

    def update(self, a: str, b: str, **changes: Any) -> None:
        """Change some faults of a link, keeping the others."""
        with self._lock:
            key = frozenset((a, b))
            faults = dataclasses.replace(
                self._faults.get(key, NONE), **changes
            )
            if faults == NONE:
                self._faults.pop(key, None)
            else:
                self._faults[key] = faults

    def get(self, a: str | None, b: str) -> Faults:
        if a is None:
            return NONE
        with self._lock:
            return self._faults.get(frozenset((a, b)), NONE)


class Proxies:
    """Proxies on one loop: ``add`` one per listening address."""

    def __init__(
        self,
        links: Links,
        who: Callable[[str], str | None],
        rng: random.Random | None = None,
        wait: Callable[[float], Awaitable[Any]] | None = None,
        swallowed: Callable[[], None] | None = None,
    ) -> None:
        """``who(host)``: the name of the end a connection comes from
        (None: no faults apply, as to the suite's own client). ``wait``:
        how a chunk waits out its delay (asyncio.sleep by default).
        ``swallowed()`` is called for each chunk a cut swallows."""
        self.links = links
        self.who = who
        self.rng = rng or random.Random()
        self.wait = wait or asyncio.sleep
        self.loop = asyncio.new_event_loop()
        self._servers: list[asyncio.Server] = []
        self._writers: set[asyncio.StreamWriter] = set()
        self.swallowed = swallowed or (lambda: None)
        self._thread = threading.Thread(
            target=self.loop.run_forever, name='chaos-proxies'
        )
        self._thread.daemon = True
        self._thread.start()

    def add(
        self, listen: tuple[str, int], target: tuple[str, int], name: str
    ) -> tuple[str, int]:
        """A proxy at ``listen`` (port 0: any) to ``target``, the end
        called ``name``; the address it listens at."""

        async def start() -> asyncio.Server:
            return await asyncio.start_server(
                lambda r, w: self._connect(r, w, target, name), *listen
            )

        server = asyncio.run_coroutine_threadsafe(start(), self.loop).result()
        self._servers.append(server)
        host, port = server.sockets[0].getsockname()[:2]
        return host, port

    def close(self) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            for writer in list(self._writers):
                writer.close()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)

    async def _connect(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: tuple[str, int],
        name: str,
    ) -> None:
        peer = writer.get_extra_info('peername')[0]
        source = self.who(peer)
        self._writers.add(writer)
        try:
            up_reader, up_writer = await asyncio.open_connection(*target)
        except OSError:
            # The site is down: refused, as it would be without us.
            self._writers.discard(writer)
            writer.close()
            return
        self._writers.add(up_writer)
        ends = (writer, up_writer)
        await asyncio.gather(
            self._pump(reader, up_writer, source, name, ends),
            self._pump(up_reader, writer, source, name, ends),
        )
        for end in ends:
            end.close()
            self._writers.discard(end)

    async def _pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        source: str | None,
        name: str,
        ends: tuple[asyncio.StreamWriter, ...],
    ) -> None:
        # (when due, bytes); b'' at the end: EOF if due is 0, else break.
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        sender = asyncio.ensure_future(self._send(queue, writer, ends))
        broken = False
        end = (0.0, b'')
        try:
            while True:
                try:
                    data = await reader.read(CHUNK)
                except OSError:
                    data = b''
                if not data:
                    break
                faults = self.links.get(source, name)
                if faults.cut:
                    broken = True
                    self.swallowed()
                    continue
                if broken or (faults.drop and self.rng.random() < faults.drop):
                    end = (1.0, b'')
                    break
                delay = faults.delay + self.rng.uniform(0, faults.jitter)
                # Each chunk waits its delay from when it came, and they
                # leave in the order they came.
                queue.put_nowait((self.loop.time() + delay, data))
        finally:
            queue.put_nowait(end)
            await sender

    async def _send(
        self,
        queue: asyncio.Queue[tuple[float, bytes]],
        writer: asyncio.StreamWriter,
        ends: tuple[asyncio.StreamWriter, ...],
    ) -> None:
        try:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                left = due - self.loop.time()
                if left > 0:
                    await self.wait(left)
                writer.write(data)
                await writer.drain()
        except OSError:
            due = 1.0
        if due or not writer.can_write_eof():
            # Broken: both sides see the connection go.
            for end in ends:
                end.close()
        else:
            try:
                writer.write_eof()
            except OSError:
                pass
