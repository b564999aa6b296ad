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


"""The gossip over real UDP sockets on loopback: sealing, refusal of what
is not ours, and detection between endpoints (waits on the endpoints'
own turns, never on a sleep; no timing is asserted)."""

import socket
import threading

import pytest

from sodos import exception
from sodos.knowmon.gossip import params as gossip_params
from sodos.knowmon.gossip import transport
from sodos.sim import ports

KEY = transport.derive_key(b'federation key')
FAST = gossip_params.Params(probe_interval=0.1, probe_timeout=0.04)
PATIENCE = 30.0


def test_sealed_message_opens_with_the_same_key_only():
    datagram = transport.seal(KEY, {'v': 1, 'x': [1, 'two']})
    assert transport.unseal(KEY, datagram) == {'v': 1, 'x': [1, 'two']}
    other = transport.derive_key(b'another federation')
    with pytest.raises(transport.Refused, match='bad tag'):
        transport.unseal(other, datagram)


def test_gossip_key_differs_from_the_federation_key():
    assert transport.derive_key(b'k') != b'k'
    assert len(transport.derive_key(b'k')) == 32


@pytest.mark.parametrize(
    ('datagram', 'reason'),
    [
        (b'x' * (transport.MAX_DATAGRAM + 1), 'too big'),
        (b'short', 'too short'),
        (b'\0' * 32 + b'{}', 'bad tag'),
    ],
)
def test_bad_datagrams_are_refused(datagram, reason):
    with pytest.raises(transport.Refused, match=reason):
        transport.unseal(KEY, datagram)


@pytest.mark.parametrize('body', [b'{not json', b'[NaN]', b'\xff\xfe'])
def test_authentic_but_undecodable_is_refused(body):
    import hashlib
    import hmac

    datagram = hmac.new(KEY, body, hashlib.sha256).digest() + body
    with pytest.raises(transport.Refused, match='not JSON'):
        transport.unseal(KEY, datagram)


class Cluster:
    def __init__(self, names, on_dead=None):
        self.addresses = {}
        for name in names:
            host, port = ports.free_address().rsplit(':', 1)
            self.addresses[name] = (host, int(port) + 2)
        self.endpoints = {
            name: transport.Endpoint(
                name,
                self.addresses[name],
                KEY,
                FAST,
                self.membership,
                on_dead=(lambda dead, name=name: on_dead(name, dead))
                if on_dead
                else None,
            )
            for name in names
        }

    def membership(self):
        return transport.Membership('fed-1', dict(self.addresses))

    def start(self):
        for endpoint in self.endpoints.values():
            endpoint.start()

    def stop(self):
        for endpoint in self.endpoints.values():
            endpoint.stop()


@pytest.fixture
def cluster():
    made = Cluster(['a', 'b', 'c'])
    made.start()
    yield made
    made.stop()


def _all_heard(endpoint):
    # Incarnation 0 is what a member is given before it has spoken.
    return all(inc > 0 for _, inc in endpoint.view().values())


def test_stopped_endpoint_is_confirmed_dead_by_the_others(cluster):
    for endpoint in cluster.endpoints.values():
        assert endpoint.wait_until(_all_heard, PATIENCE)
        assert endpoint.dead() == set()
    cluster.endpoints['c'].stop()
    for name in ('a', 'b'):
        assert cluster.endpoints[name].wait_until(
            lambda e: e.dead() == {'c'}, PATIENCE
        )


def _turns(count):
    """A predicate for wait_until that holds after ``count`` looks."""
    looks = iter(range(count))
    return lambda _endpoint: next(looks, None) is None


def test_a_member_confirmed_dead_is_told_once_to_each_survivor():
    told = []
    both = threading.Event()

    def on_dead(observer, dead):
        told.append((observer, frozenset(dead)))
        if {o for o, _ in told} == {'a', 'b'}:
            both.set()

    cluster = Cluster(['a', 'b', 'c'], on_dead)
    cluster.start()
    try:
        for endpoint in cluster.endpoints.values():
            assert endpoint.wait_until(_all_heard, PATIENCE)
        cluster.endpoints['c'].stop()
        assert both.wait(PATIENCE)
        # Stays dead for a few more turns: nothing is told again.
        for name in ('a', 'b'):
            cluster.endpoints[name].wait_until(_turns(20), PATIENCE)
    finally:
        cluster.stop()
    assert sorted(told) == [('a', frozenset('c')), ('b', frozenset('c'))]


def test_forged_datagram_is_counted_and_changes_nothing(cluster):
    a = cluster.endpoints['a']
    assert a.wait_until(_all_heard, PATIENCE)
    forged = transport.seal(
        transport.derive_key(b'guess'),
        {
            'v': 1,
            'fed': 'fed-1',
            'type': 'ping',
            'from': 'b',
            'inc': 9,
            'seq': 1,
            'target': 'a',
            'updates': [
                {'member': 'c', 'state': 'dead', 'inc': 10**15, 'by': 'b'}
            ],
        },
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(forged, cluster.addresses['a'])
    assert a.wait_until(lambda e: e.dropped().get('bad tag') == 1, PATIENCE)
    assert a.dead() == set()


def test_drops_are_summed_up_in_the_log_once(cluster, caplog):
    a = cluster.endpoints['a']
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b'x' * 40, cluster.addresses['a'])
    assert a.wait_until(lambda e: e.dropped().get('bad tag') == 1, PATIENCE)
    said = a._say_dropped({})
    assert 'bad tag: 1' in caplog.text
    caplog.clear()
    a._say_dropped(said)
    assert 'bad tag' not in caplog.text


def test_port_in_use_is_a_clear_error():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(('127.0.0.1', 0))
        endpoint = transport.Endpoint(
            'a', taken.getsockname(), KEY, FAST, lambda: None
        )
        with pytest.raises(exception.ConfigError, match='gossip_port'):
            endpoint.start()


def test_vouching_before_the_first_look_at_the_kb_changes_nothing():
    made = Cluster(['a', 'b', 'c'])
    a = made.endpoints['a']
    assert a.vouch({'b': 5}) == []
    # One look at the KB, no thread: now the view takes it.
    a._refresh(0.0)
    assert a.vouch({'b': 5}) == ['b']
    assert a.view()['b'] == ('alive', 5)
