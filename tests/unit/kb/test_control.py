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
