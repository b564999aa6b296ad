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

import contextlib
import json
import socket
import threading

import pytest

from sodos import exception
from sodos import tls as sodos_tls
from sodos.kb.raft import control
from sodos.sim import certs

KEY = control.derive_key('right')


def _contexts(options):
    return sodos_tls.contexts(
        sodos_tls.Files(
            options['ssl_ca_file'],
            options['ssl_cert_file'],
            options['ssl_key_file'],
        )
    )


@pytest.fixture(scope='module')
def tls(local_ca):
    return _contexts(local_ca.issue('control-test'))


@pytest.fixture
def creds(tls):
    return control.Credentials(KEY, tls)


@pytest.fixture
def wrong(tls):
    return control.Credentials(control.derive_key('wrong'), tls)


@pytest.fixture
def server(creds):
    yield from _serve(creds)


@pytest.fixture
def plain_server():
    yield from _serve(control.Credentials(KEY))


def _serve(creds):
    calls = []

    def echo(args):
        calls.append(args)
        return {'echo': args}

    def refuse(args):
        raise exception.SodosError('no, because')

    srv = control.ControlServer(
        ('127.0.0.1', 0), creds, {'echo': echo, 'refuse': refuse}
    )
    srv.start()
    srv.calls = calls
    # Clients reach a member at its Raft port + 1.
    srv.raft_address = '127.0.0.1:%d' % (srv.server_address[1] - 1)
    yield srv
    srv.stop()


def _connect(server, creds):
    """A raw connection to the server, under its TLS if it has one."""
    host, port = server.server_address
    sock = socket.create_connection((host, port), timeout=10)
    if creds.tls is not None:
        sock = creds.tls.client.wrap_socket(sock, server_hostname=host)
    return sock


def _request(nonce, op, args, seq=1, client_nonce='c1'):
    mac = control._mac(KEY, nonce, seq, 'request', [op, args, client_nonce])
    return json.dumps(
        {'op': op, 'args': args, 'nonce': client_nonce, 'mac': mac}
    ).encode()


def test_round_trip_on_one_connection(server, creds):
    client = control.ControlClient(server.raft_address, creds)
    assert client.call('echo', a=1) == {'echo': {'a': 1}}
    assert client.call('echo', b=[1, 2]) == {'echo': {'b': [1, 2]}}
    client.close()


def test_wrong_password_is_refused_before_the_handler_runs(server, wrong):
    with pytest.raises(
        exception.AuthenticationFailed, match=r'\[raft\]password differs'
    ):
        control.call(server.raft_address, wrong, 'echo', a=1)
    assert server.calls == []


def test_refusal_carries_the_reason(server, creds):
    with pytest.raises(exception.SodosError, match='no, because'):
        control.call(server.raft_address, creds, 'refuse')


def test_unknown_operation_is_a_bad_request(server, creds):
    with pytest.raises(exception.SodosError, match='bad request'):
        control.call(server.raft_address, creds, 'format_disk')


def test_recorded_request_cannot_be_replayed(server, creds):
    with _connect(server, creds) as sock:
        reader = sock.makefile('rb')
        nonce = json.loads(reader.readline())['nonce']
        line = _request(nonce, 'echo', {'x': 1})
        sock.sendall(line + b'\n')
        assert json.loads(reader.readline())['ok'] is True
    # The same bytes on a new connection (new nonce) are refused.
    with _connect(server, creds) as sock:
        reader = sock.makefile('rb')
        reader.readline()
        sock.sendall(line + b'\n')
        assert json.loads(reader.readline()) == {'ok': False, 'auth': False}
    assert server.calls == [{'x': 1}]


def _record(server, op, args):
    """A genuine exchange with the server: its nonce and its reply."""
    with _connect(server, control.Credentials(KEY)) as sock:
        reader = sock.makefile('rb')
        nonce = json.loads(reader.readline())['nonce']
        sock.sendall(_request(nonce, op, args) + b'\n')
        return nonce, reader.readline()


def _replaying(nonce, reply):
    """A fake member that opens with ``nonce`` and answers any request
    with the recorded ``reply``: what a man in the middle could do."""
    listener = socket.create_server(('127.0.0.1', 0))
    served = threading.Event()

    def serve():
        conn, _ = listener.accept()
        with conn:
            reader = conn.makefile('rb')
            conn.sendall(json.dumps({'nonce': nonce}).encode() + b'\n')
            reader.readline()
            conn.sendall(reply)
            served.set()
            reader.readline()  # until the client closes

    threading.Thread(target=serve, daemon=True).start()
    port = listener.getsockname()[1]
    return listener, served, '127.0.0.1:%d' % (port - 1)


@pytest.mark.parametrize('args', [{'a': 2}, {'a': 1}], ids=['other', 'same'])
def test_a_reply_is_accepted_only_for_the_request_it_answers(
    plain_server, args
):
    # The reply to echo(a=1), genuine, with its MAC...
    nonce, reply = _record(plain_server, 'echo', {'a': 1})
    assert json.loads(reply)['result'] == {'echo': {'a': 1}}
    # ...played back as the answer to another request (echo a=2), or to
    # the same request asked again: both refused.
    listener, served, address = _replaying(nonce, reply)
    with listener:
        with pytest.raises(
            exception.AuthenticationFailed, match='a reply not made for it'
        ):
            control.call(address, control.Credentials(KEY), 'echo', **args)
        assert served.wait(10)


def test_unreachable_member_is_named(creds):
    with pytest.raises(exception.PeerUnreachable, match='127.0.0.1:1 '):
        control.call('127.0.0.1:1', creds, 'echo')


def test_a_member_that_closes_during_the_handshake_is_unreachable(creds):
    # As a member does that dies or stops while we connect: not a
    # refusal of our certificate, and the next member may be asked.
    with socket.socket() as listener:
        listener.bind(('127.0.0.1', 0))
        listener.listen()
        port = listener.getsockname()[1]

        def close_at_once():
            conn, _ = listener.accept()
            # The client's hello read, the connection closed cleanly.
            conn.recv(65536)
            conn.close()

        closer = threading.Thread(target=close_at_once)
        closer.start()
        with pytest.raises(
            exception.PeerUnreachable, match='during the TLS handshake'
        ):
            control.call('127.0.0.1:%d' % (port - 1), creds, 'echo')
        closer.join()


def test_control_address_is_raft_port_plus_one():
    assert control.control_address('10.0.0.1:7700') == ('10.0.0.1', 7701)
    assert control.control_address('[::1]:7700') == ('::1', 7701)


def _frame(args, op='echo'):
    """A request with a valid MAC, as json.dumps writes it (NaN too)."""
    return lambda nonce: _request(nonce, op, args)


def _deep(levels):
    return lambda nonce: (
        b'{"op": "echo", "args": ' + (b'[' * levels + b']' * levels) + b'}'
    )


def _exchange(server, make, creds):
    with _connect(server, creds) as sock:
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
    server, creds, caplog, make, problem
):
    reply, after = _exchange(server, make, creds)
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
    assert control.call(server.raft_address, creds, 'echo', a=1) == {
        'echo': {'a': 1}
    }


def test_a_refused_operation_name_is_logged_on_one_line(server, wrong, caplog):
    with pytest.raises(exception.AuthenticationFailed):
        control.call(server.raft_address, wrong, 'echo\nWARNING forged line')
    refusals = [r.getMessage() for r in caplog.records if 'refused' in r.msg]
    assert refusals
    assert all('\n' not in message for message in refusals), refusals


def test_a_peer_of_another_ca_is_refused_both_ways(server, tmp_path, caplog):
    stranger = certs.LocalCA(str(tmp_path / 'other-ca'))
    theirs = control.Credentials(KEY, _contexts(stranger.issue('stranger')))
    # As a client: it does not trust our certificate, nor we its own.
    with pytest.raises(exception.AuthenticationFailed, match='TLS|refused'):
        control.call(server.raft_address, theirs, 'echo', a=1)
    assert server.calls == []
    # As a server: our client refuses its certificate.
    with contextlib.contextmanager(_serve)(theirs) as impostor:
        with pytest.raises(
            exception.AuthenticationFailed, match='certificate is refused'
        ):
            control.call(impostor.raft_address, server.credentials, 'echo')
        assert impostor.calls == []


def test_a_plaintext_client_is_refused(server, caplog):
    # What it sends is not a TLS hello: the handshake fails, the
    # connection closes, the handler never runs.
    host, port = server.server_address
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(_request('n', 'echo', {'x': 1}) + b'\n')
        assert sock.makefile('rb').readline() == b''
    assert server.calls == []
    assert 'control channel: refused a connection from 127.0.0.1: TLS ' in (
        caplog.text
    )
    # A plaintext client waiting for the opening nonce gets nothing.
    with pytest.raises(exception.PeerUnreachable):
        control.ControlClient(
            server.raft_address, control.Credentials(KEY), timeout=0.5
        ).call('echo', a=1)
    assert server.calls == []
