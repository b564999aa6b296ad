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

"""The chaos suite's delaying proxy, between two sockets on loopback."""

import asyncio
import os
import socket
import threading

import pytest

from tests.chaos import proxy

TIMEOUT = 10


class Gate:
    """A delay that ends when the test says so: the proxy's wait."""

    def __init__(self):
        self.asked = []
        self.waiting = threading.Event()
        self.open = threading.Event()

    async def wait(self, seconds):
        self.asked.append(seconds)
        self.waiting.set()
        await asyncio.get_running_loop().run_in_executor(
            None, self.open.wait, TIMEOUT
        )


@pytest.fixture
def pair():
    """(links, gate, swallowed event, client socket, server socket):
    bytes from the client go through a proxy to the server; the client
    is end 'a', the server end 'b'."""
    links = proxy.Links()
    gate = Gate()
    swallowed = threading.Event()
    proxies = proxy.Proxies(
        links, lambda host: 'a', wait=gate.wait, swallowed=swallowed.set
    )
    target = socket.create_server(('127.0.0.1', 0))
    address = proxies.add(('127.0.0.1', 0), target.getsockname(), 'b')
    client = socket.create_connection(address, TIMEOUT)
    target.settimeout(TIMEOUT)
    server, _ = target.accept()
    server.settimeout(TIMEOUT)
    yield links, gate, swallowed, client, server
    gate.open.set()
    client.close()
    server.close()
    target.close()
    proxies.close()


def receive(sock, size):
    data = b''
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def closed(sock):
    try:
        return sock.recv(100) == b''
    except ConnectionResetError:
        return True


def test_bytes_go_both_ways_intact(pair):
    links, gate, _, client, server = pair
    payload = os.urandom(1 << 20)
    sender = threading.Thread(target=client.sendall, args=(payload,))
    sender.start()
    assert receive(server, len(payload)) == payload
    sender.join(TIMEOUT)
    server.sendall(b'answer')
    assert receive(client, 6) == b'answer'
    assert gate.asked == []


def test_a_delayed_chunk_waits_its_delay_then_arrives_intact(pair):
    links, gate, _, client, server = pair
    links.set('a', 'b', proxy.Faults(delay=0.3))
    client.sendall(b'hello')
    assert gate.waiting.wait(TIMEOUT)
    # Held while its delay runs: nothing has reached the server.
    server.setblocking(False)
    with pytest.raises(BlockingIOError):
        server.recv(100)
    server.setblocking(True)
    server.settimeout(TIMEOUT)
    assert 0 < gate.asked[0] <= 0.3
    gate.open.set()
    assert receive(server, 5) == b'hello'


def test_a_fault_reaches_an_open_connection_and_its_heal_too(pair):
    links, gate, _, client, server = pair
    client.sendall(b'one')
    assert receive(server, 3) == b'one'
    links.set('b', 'a', proxy.Faults(delay=0.5))
    server.sendall(b'two')
    assert gate.waiting.wait(TIMEOUT)
    gate.open.set()
    assert receive(client, 3) == b'two'
    links.set('a', 'b', proxy.NONE)
    client.sendall(b'three')
    assert receive(server, 5) == b'three'
    assert len(gate.asked) == 1


def test_a_lossy_link_breaks_the_connection(pair):
    links, _, _, client, server = pair
    links.set('a', 'b', proxy.Faults(drop=1.0))
    client.sendall(b'lost')
    assert closed(server)
    assert closed(client)


def test_a_cut_link_swallows_and_the_stream_ends_after_the_cut(pair):
    links, _, swallowed, client, server = pair
    links.update('a', 'b', cut=True)
    client.sendall(b'lost')
    assert swallowed.wait(TIMEOUT)
    links.update('a', 'b', cut=False)
    client.sendall(b'next')
    # Neither the swallowed bytes nor those after: the stream is broken.
    assert closed(server)


def test_links_are_unordered_pairs_and_healed_links_are_forgotten():
    links = proxy.Links()
    links.update('a', 'b', delay=0.1)
    links.update('b', 'a', jitter=0.2)
    assert links.get('b', 'a') == proxy.Faults(delay=0.1, jitter=0.2)
    links.update('a', 'b', delay=0.0, jitter=0.0)
    assert links._faults == {}
    # No name: the suite's own client, to which no fault applies.
    links.set('a', 'b', proxy.Faults(cut=True))
    assert links.get(None, 'b') == proxy.NONE
