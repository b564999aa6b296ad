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

import json
import socket

import pytest

from sodos import exception
from sodos.kb.raft import control

KEY = control.derive_key('right')


@pytest.fixture
def server():
    calls = []

    def echo(args):
        calls.append(args)
        return {'echo': args}

    def refuse(args):
        raise exception.SodosError('no, because')

    srv = control.ControlServer(
        ('127.0.0.1', 0), KEY, {'echo': echo, 'refuse': refuse}
    )
    srv.start()
    srv.calls = calls
    # Clients reach a member at its Raft port + 1.
    srv.raft_address = '127.0.0.1:%d' % (srv.server_address[1] - 1)
    yield srv
    srv.stop()


def test_round_trip_on_one_connection(server):
    client = control.ControlClient(server.raft_address, KEY)
    assert client.call('echo', a=1) == {'echo': {'a': 1}}
    assert client.call('echo', b=[1, 2]) == {'echo': {'b': [1, 2]}}
    client.close()


def test_wrong_password_is_refused_before_the_handler_runs(server):
    with pytest.raises(
        exception.AuthenticationFailed, match=r'\[raft\]password differs'
    ):
        control.call(
            server.raft_address, control.derive_key('wrong'), 'echo', a=1
        )
    assert server.calls == []


def test_refusal_carries_the_reason(server):
    with pytest.raises(exception.SodosError, match='no, because'):
        control.call(server.raft_address, KEY, 'refuse')


def test_unknown_operation_is_a_bad_request(server):
    with pytest.raises(exception.SodosError, match='bad request'):
        control.call(server.raft_address, KEY, 'format_disk')


def test_recorded_request_cannot_be_replayed(server):
    host, port = server.server_address
    with socket.create_connection((host, port)) as sock:
        reader = sock.makefile('rb')
        nonce = json.loads(reader.readline())['nonce']
        mac = control._mac(KEY, nonce, 1, 'request', ['echo', {'x': 1}])
        line = json.dumps({'op': 'echo', 'args': {'x': 1}, 'mac': mac})
        sock.sendall(line.encode() + b'\n')
        assert json.loads(reader.readline())['ok'] is True
    # The same bytes on a new connection (new nonce) are refused.
    with socket.create_connection((host, port)) as sock:
        reader = sock.makefile('rb')
        reader.readline()
        sock.sendall(line.encode() + b'\n')
        assert json.loads(reader.readline()) == {'ok': False, 'auth': False}
    assert server.calls == [{'x': 1}]


def test_unreachable_member_is_named():
    with pytest.raises(exception.PeerUnreachable, match='127.0.0.1:1 '):
        control.call('127.0.0.1:1', KEY, 'echo')


def test_control_address_is_raft_port_plus_one():
    assert control.control_address('10.0.0.1:7700') == ('10.0.0.1', 7701)
    assert control.control_address('[::1]:7700') == ('::1', 7701)


def _frame(args, op='echo'):
    """A request with a valid MAC, as json.dumps writes it (NaN too)."""

    def make(nonce):
        mac = control._mac(KEY, nonce, 1, 'request', [op, args])
        return json.dumps({'op': op, 'args': args, 'mac': mac}).encode()

    return make


def _deep(levels):
    return lambda nonce: (
        b'{"op": "echo", "args": ' + (b'[' * levels + b']' * levels) + b'}'
    )


def _exchange(server, make):
    host, port = server.server_address
    with socket.create_connection((host, port), timeout=10) as sock:
        reader = sock.makefile('rb')
        nonce = json.loads(reader.readline())['nonce']
        sock.sendall(make(nonce) + b'\n')
        return reader.readline(), reader.readline()


@pytest.mark.parametrize(
    'make, problem',
    [
        (_deep(5000), 'nested deeper than 64'),
        (_deep(100_000), 'nested deeper than 64'),
        (_frame({'x': float('nan')}), 'message.args.x: NaN'),
        (_frame({'x': float('inf')}), 'message.args.x: Infinity'),
        (_frame({'x': '\ud800'}), 'message.args.x: string has a lone'),
        (lambda nonce: b'[1, 2]', 'not an object'),
    ],
)
def test_a_frame_json_cannot_carry_is_answered_and_closed(
    server, caplog, make, problem
):
    reply, after = _exchange(server, make)
    assert reply, 'the connection was dropped without an answer'
    answer = json.loads(reply)
    assert answer['ok'] is False
    assert answer['error'].startswith('bad message: ')
    assert problem in answer['error']
    assert after == b''  # closed
    assert server.calls == []
    assert 'closed the connection from 127.0.0.1: bad message' in caplog.text
    assert problem in caplog.text
    # The server goes on serving.
    assert control.call(server.raft_address, KEY, 'echo', a=1) == {
        'echo': {'a': 1}
    }


def test_a_refused_operation_name_is_logged_on_one_line(server, caplog):
    with pytest.raises(exception.AuthenticationFailed):
        control.call(
            server.raft_address,
            control.derive_key('wrong'),
            'echo\nWARNING forged line',
        )
    refusals = [r.getMessage() for r in caplog.records if 'refused' in r.msg]
    assert refusals
    assert all('\n' not in message for message in refusals), refusals
