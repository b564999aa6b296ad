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

"""The membership control channel: a small authenticated side channel.

Read-only Raft members have no Raft port, and a Raft follower does not
forward the log ("Joining through one member" in
doc/source/contributor/design-notes.rst), so a newcomer that knows one
member cannot learn the voters through Raft. Every member therefore also
listens on Raft port + 1 for a few requests: ``hello`` (join), ``heartbeat``
(liveness, sent to the leader), ``status`` and ``leave``.

The channel runs over mutual TLS (:mod:`sodos.tls`): both ends present a
certificate of the federation CA and check the other's; plaintext only
with ``[raft]insecure_dev_mode``. Inside it, messages are JSON lines
(never pickle), authenticated with the federation password as well. The
server opens each connection with a random nonce; a request carries a
nonce of the client's, and an HMAC-SHA256 over both nonces, a sequence
number, the operation and its arguments; the reply's HMAC covers the
request's MAC and the reply. So both sides prove they know the password,
a recorded request cannot be replayed on another connection, and a reply
is accepted only as the answer to the very request it was made for: a
reply recorded earlier, or one to another request, is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from typing import Any

from sodos import exception
from sodos import jsonsafe
from sodos import tls as sodos_tls

LOG = logging.getLogger(__name__)

MAX_LINE = 1 << 20
_SALT = b'sodos-control-channel-v1'
# Used only in the explicit loopback development mode without a password.
_DEV_KEY = b'sodos-insecure-development-mode'

Handler = Callable[[dict[str, Any]], Any]


def derive_key(password: str | None) -> bytes:
    if not password:
        return _DEV_KEY
    return hashlib.pbkdf2_hmac('sha256', password.encode(), _SALT, 100_000)


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What either end of the channel needs: the key derived from the
    federation password, and this site's TLS (None: plaintext, only
    with [raft]insecure_dev_mode)."""

    key: bytes
    tls: sodos_tls.Contexts | None = None


def credentials(
    password: str | None, tls: sodos_tls.Contexts | None
) -> Credentials:
    return Credentials(derive_key(password), tls)


def control_address(raft_address: str) -> tuple[str, int]:
    """The control endpoint of a member: its Raft port + 1."""
    host, port = raft_address.rsplit(':', 1)
    return host.strip('[]'), int(port) + 1


def _mac(key: bytes, nonce: str, seq: int, kind: str, body: Any) -> str:
    """The HMAC of a request (body: [op, args, client nonce]) or of a
    reply (body: [the request's MAC, reply])."""
    text = json.dumps(body, sort_keys=True, separators=(',', ':'))
    message = ('%s|%d|%s|%s' % (nonce, seq, kind, text)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message).encode() + b'\n')


def _recv(reader: Any) -> dict[str, Any]:
    line = reader.readline(MAX_LINE + 1)
    if not line:
        raise ConnectionError('connection closed')
    if len(line) > MAX_LINE:
        raise ValueError('message too long')
    # Strict before anything else reads it, the MAC check included: a
    # peer that is not yet authenticated must not make the decoder
    # recurse, nor have NaN or a lone surrogate reach a handler.
    message = jsonsafe.loads(line, 'message')
    if not isinstance(message, dict):
        raise ValueError('message is not an object')
    return message


class _RequestHandler(socketserver.StreamRequestHandler):
    server: ControlServer

    def handle(self) -> None:
        nonce = os.urandom(16).hex()
        key = self.server.credentials.key
        self.request.settimeout(self.server.idle_timeout)
        try:
            _send(self.request, {'nonce': nonce})
            seq = 0
            while True:
                seq += 1
                try:
                    request = _recv(self.rfile)
                except ValueError as exc:
                    self._refuse(key, nonce, seq, exc)
                    return
                op, args = request.get('op'), request.get('args', {})
                theirs = request.get('nonce')
                mac = _mac(key, nonce, seq, 'request', [op, args, theirs])
                if not hmac.compare_digest(str(request.get('mac')), mac):
                    # %r: whatever the peer sent, on one log line.
                    LOG.warning(
                        'control channel: refused %r from %s: wrong password',
                        op,
                        self.client_address[0],
                    )
                    _send(self.request, {'ok': False, 'auth': False})
                    return
                reply = self._answer(op, args)
                reply['mac'] = _mac(key, nonce, seq, 'reply', [mac, reply])
                _send(self.request, reply)
        except (OSError, ValueError):
            return

    def _refuse(
        self, key: bytes, nonce: str, seq: int, problem: ValueError
    ) -> None:
        """Answer a message that is not one, then close the connection:
        the peer may not follow the protocol at all."""
        LOG.warning(
            'control channel: closed the connection from %s: bad message: %s',
            self.client_address[0],
            problem,
        )
        body: dict[str, Any] = {
            'ok': False,
            'error': 'bad message: %s' % problem,
        }
        body['mac'] = _mac(key, nonce, seq, 'reply', ['', body])
        _send(self.request, body)

    def _answer(self, op: Any, args: Any) -> dict[str, Any]:
        handler = self.server.handlers.get(op) if isinstance(op, str) else None
        if handler is None or not isinstance(args, dict):
            body: dict[str, Any] = {'ok': False, 'error': 'bad request'}
        else:
            try:
                body = {'ok': True, 'result': handler(args)}
            except exception.NotReady as exc:
                body = {'ok': False, 'error': str(exc), 'retry': True}
            except exception.SodosError as exc:
                body = {'ok': False, 'error': str(exc)}
            except Exception as exc:
                LOG.exception('control channel: %s failed', op)
                body = {'ok': False, 'error': 'internal error: %s' % exc}
        return body


class ControlServer(
    sodos_tls.HandshakeInThread, socketserver.ThreadingTCPServer
):
    daemon_threads = True
    allow_reuse_address = True
    idle_timeout = 60.0
    tls_label = 'control channel'

    def __init__(
        self,
        bind: tuple[str, int],
        credentials: Credentials,
        handlers: dict[str, Handler],
    ) -> None:
        self.credentials = credentials
        self.tls = credentials.tls.server if credentials.tls else None
        self.handlers = handlers
        if ':' in bind[0]:
            self.address_family = socket.AF_INET6
        super().__init__(bind, _RequestHandler)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self.serve_forever,
            kwargs={'poll_interval': 0.2},
            name='sodos-control',
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class ControlClient:
    """A connection to one member's control channel, reopened on demand."""

    def __init__(
        self, address: str, credentials: Credentials, timeout: float = 5.0
    ):
        self.address = address
        self.credentials = credentials
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._reader: Any = None
        self._nonce = ''
        self._seq = 0
        self._lock = threading.Lock()

    def _connect(self) -> None:
        host, port = control_address(self.address)
        try:
            sock = socket.create_connection((host, port), self.timeout)
        except OSError as exc:
            raise exception.PeerUnreachable(
                'member %s does not answer on its control port %s:%d (%s)'
                % (self.address, host, port, exc)
            ) from exc
        sock.settimeout(self.timeout)
        sodos_tls.nodelay(sock)
        try:
            sock = self._secure(sock, host)
            self._sock, self._reader = sock, sock.makefile('rb')
            # Under TLS 1.3 a server that refuses our certificate says
            # so only now, at the first read.
            self._nonce, self._seq = str(_recv(self._reader)['nonce']), 0
        except OSError as exc:
            sock.close()
            self._sock = self._reader = None
            if isinstance(exc, ssl.SSLError):
                raise self._tls_refused(exc) from exc
            raise

    def _secure(self, sock: socket.socket, host: str) -> socket.socket:
        tls = self.credentials.tls
        if tls is None:
            return sock
        return tls.client.wrap_socket(sock, server_hostname=host)

    def _tls_refused(self, exc: ssl.SSLError) -> exception.SodosError:
        if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            # Closed in the middle of the handshake: a member that died
            # or stopped then, not one that refuses us. Another member
            # may answer (discovery asks the next one).
            return exception.PeerUnreachable(
                'member %s closed the connection during the TLS handshake '
                '(%s): is it running?' % (self.address, exc.reason or exc)
            )
        if isinstance(exc, ssl.SSLCertVerificationError):
            return exception.AuthenticationFailed(
                'member %s: its certificate is refused (%s): is it signed '
                'by the CA of [raft]ssl_ca_file, for the host of its '
                '[raft]address?' % (self.address, exc.verify_message)
            )
        return exception.AuthenticationFailed(
            'member %s: TLS failed (%s): does it run TLS with the '
            'federation CA, and is our [raft]ssl_cert_file signed by it?'
            % (self.address, exc.reason or exc)
        )

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
        self._sock = self._reader = None

    def call(self, op: str, /, **args: Any) -> Any:
        """Run ``op`` at the member and return its result.

        :raises AuthenticationFailed: the passwords differ.
        :raises PeerUnreachable: no answer.
        :raises SodosError: the member refused, with its reason.
        """
        with self._lock:
            try:
                return self._call(op, args)
            except (OSError, ValueError, KeyError) as exc:
                self.close()
                raise exception.PeerUnreachable(
                    'member %s: control request %s failed: %s'
                    % (self.address, op, exc)
                ) from exc

    def _call(self, op: str, args: dict[str, Any]) -> Any:
        if self._sock is None:
            self._connect()
        assert self._sock is not None
        self._seq += 1
        key, ours = self.credentials.key, os.urandom(16).hex()
        mac = _mac(key, self._nonce, self._seq, 'request', [op, args, ours])
        _send(self._sock, {'op': op, 'args': args, 'nonce': ours, 'mac': mac})
        reply = _recv(self._reader)
        if reply.get('auth') is False:
            self.close()
            raise exception.AuthenticationFailed(
                'member %s refused our credentials: [raft]password differs '
                "from the federation's" % self.address
            )
        their_mac = reply.pop('mac', '')
        if not hmac.compare_digest(
            str(their_mac),
            _mac(key, self._nonce, self._seq, 'reply', [mac, reply]),
        ):
            self.close()
            raise exception.AuthenticationFailed(
                'member %s answered %s with a reply not made for it (not '
                'to this request, or without the federation password): '
                'check [raft]password and [raft]join' % (self.address, op)
            )
        if not reply.get('ok'):
            error = (
                exception.NotReady
                if reply.get('retry')
                else (exception.SodosError)
            )
            raise error('member %s: %s' % (self.address, reply.get('error')))
        return reply.get('result')


def call(peer: str, credentials: Credentials, op: str, /, **args: Any) -> Any:
    """One request on a fresh connection."""
    client = ControlClient(peer, credentials)
    try:
        return client.call(op, **args)
    finally:
        client.close()
