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

"""Mutual TLS between sites: the control channel and the image relay.

Every site holds a certificate signed by the federation's CA
(``[raft]ssl_cert_file`` and ``[raft]ssl_key_file``) and the CA itself
(``[raft]ssl_ca_file``). Both ends of a connection present their
certificate and check the other's against the CA; the client also checks
that the server's certificate names the host it dialled. TLS 1.2 at
least.

The files are checked when the site starts, before anything listens, so
that a wrong file is one error naming the option and the file, not a
handshake that fails later at every peer: unreadable, not PEM, a key
that does not match the certificate, a certificate the CA did not sign
or that has expired.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import socket
import ssl
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from oslo_config import cfg

from sodos import exception

LOG = logging.getLogger(__name__)

OPTIONS = ('ssl_ca_file', 'ssl_cert_file', 'ssl_key_file')
# Certificates an intermediate CA chain may hold between a site and the
# federation CA; more is a mistake, not a deployment.
MAX_CHAIN = 4


@dataclasses.dataclass(frozen=True)
class Files:
    ca: str
    cert: str
    key: str


@dataclasses.dataclass(frozen=True)
class Contexts:
    """The TLS of this site: to listen with and to connect with."""

    files: Files
    server: ssl.SSLContext
    client: ssl.SSLContext


def files_from(conf: cfg.ConfigOpts) -> Files | None:
    """The three [raft]ssl_* files; None when none is set."""
    raft = conf.raft
    values = {name: getattr(raft, name) for name in OPTIONS}
    if not any(values.values()):
        return None
    missing = [name for name, value in values.items() if not value]
    if missing:
        raise exception.ConfigError(
            '%s not set: mutual TLS needs all of [raft]ssl_ca_file, '
            '[raft]ssl_cert_file and [raft]ssl_key_file'
            % ', '.join('[raft]%s is' % name for name in missing)
        )
    return Files(
        ca=values['ssl_ca_file'],
        cert=values['ssl_cert_file'],
        key=values['ssl_key_file'],
    )


def from_conf(conf: cfg.ConfigOpts) -> Contexts | None:
    """This site's TLS, checked; None when it runs in plaintext.

    Plaintext only with ``[raft]insecure_dev_mode``.

    :raises ConfigError: naming the option and the file at fault.
    """
    files = files_from(conf)
    if files is None:
        if not conf.raft.insecure_dev_mode:
            raise exception.ConfigError(
                '[raft]ssl_ca_file, [raft]ssl_cert_file and '
                '[raft]ssl_key_file are not set: sites talk to each other '
                'over mutual TLS only (plaintext only with '
                '[raft]insecure_dev_mode, for development on loopback)'
            )
        return None
    return contexts(files)


def contexts(files: Files) -> Contexts:
    check(files)
    try:
        server = _context(ssl.PROTOCOL_TLS_SERVER, files)
        client = _context(ssl.PROTOCOL_TLS_CLIENT, files)
    except (ssl.SSLError, OSError) as exc:
        # What check() let through and OpenSSL did not (a key type or
        # a CA file it cannot use, say).
        raise exception.ConfigError(
            '[raft]ssl_ca_file %s, ssl_cert_file %s, ssl_key_file %s: '
            'OpenSSL cannot use them: %s'
            % (files.ca, files.cert, files.key, exc)
        ) from None
    return Contexts(files=files, server=server, client=client)


def _context(protocol: int, files: Files) -> ssl.SSLContext:
    context = ssl.SSLContext(protocol)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    # A site talks only to sites: the federation CA, not the system's.
    context.load_verify_locations(cafile=files.ca)
    context.load_cert_chain(files.cert, files.key)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def _read(path: str, option: str) -> bytes:
    try:
        with open(path, 'rb') as f:
            return f.read()
    except OSError as exc:
        raise exception.ConfigError(
            '[raft]%s: cannot read %s: %s'
            % (option, path, exc.strerror or exc)
        ) from None


def _certificates(path: str, option: str) -> list[x509.Certificate]:
    data = _read(path, option)
    try:
        found = x509.load_pem_x509_certificates(data)
    except ValueError:
        found = []
    if not found:
        raise exception.ConfigError(
            '[raft]%s: %s holds no PEM certificate' % (option, path)
        )
    return found


def check(files: Files) -> None:
    """Raise ConfigError if the files cannot make this site's TLS."""
    cas = _certificates(files.ca, 'ssl_ca_file')
    chain = _certificates(files.cert, 'ssl_cert_file')
    try:
        key = serialization.load_pem_private_key(
            _read(files.key, 'ssl_key_file'), password=None
        )
    except (ValueError, TypeError) as exc:
        raise exception.ConfigError(
            '[raft]ssl_key_file: %s is not an unencrypted PEM private key '
            '(%s)' % (files.key, exc)
        ) from None
    leaf = chain[0]
    if _public(key.public_key()) != _public(leaf.public_key()):
        raise exception.ConfigError(
            '[raft]ssl_key_file: the key in %s does not match the '
            'certificate in [raft]ssl_cert_file %s' % (files.key, files.cert)
        )
    now = datetime.datetime.now(datetime.UTC)
    if not leaf.not_valid_before_utc <= now <= leaf.not_valid_after_utc:
        raise exception.ConfigError(
            '[raft]ssl_cert_file: the certificate in %s is valid from %s '
            'to %s, not now'
            % (
                files.cert,
                leaf.not_valid_before_utc.isoformat(),
                leaf.not_valid_after_utc.isoformat(),
            )
        )
    if not _signed_by(leaf, chain[1:], cas):
        raise exception.ConfigError(
            '[raft]ssl_cert_file: the certificate in %s (issued by %s) is '
            'not signed by the CA in [raft]ssl_ca_file %s'
            % (files.cert, leaf.issuer.rfc4514_string(), files.ca)
        )


def _public(key: Any) -> bytes:
    data: bytes = key.public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo,
    )
    return data


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _signed_by(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    cas: list[x509.Certificate],
) -> bool:
    """Whether ``leaf`` leads to one of ``cas``, through the
    intermediates its file holds after it."""
    cert = leaf
    for _ in range(MAX_CHAIN + 1):
        if any(_issued_by(cert, ca) for ca in cas):
            return True
        parents = [i for i in intermediates if _issued_by(cert, i)]
        if not parents:
            return False
        cert = parents[0]
    return False


def nodelay(sock: socket.socket) -> None:
    """Send small writes at once. TLS adds writes of its own (a TLS 1.3
    server sends its session tickets after the handshake): with Nagle's
    algorithm, the next small message waits for the peer's delayed ACK,
    about 40 ms per exchange on Linux."""
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class HandshakeInThread:
    """For a socketserver: TLS, shaken hands in the request's thread.

    Wrapping in ``get_request`` would make the accepting thread wait for
    each client's handshake: one silent client would stop the server.
    Mixed in before the server class; ``tls`` None serves plaintext.
    """

    tls: ssl.SSLContext | None = None
    handshake_timeout = 10.0
    # Names the server in the log line of a refused handshake.
    tls_label = 'server'

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()  # type: ignore[misc]
        nodelay(sock)
        if self.tls is None:
            return sock, address
        return (
            self.tls.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            ),
            address,
        )

    def finish_request(self, request: Any, client_address: Any) -> None:
        if isinstance(request, ssl.SSLSocket):
            request.settimeout(self.handshake_timeout)
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError) as exc:
                LOG.warning(
                    '%s: refused a connection from %s: TLS handshake '
                    'failed: %s',
                    self.tls_label,
                    client_address[0],
                    exc,
                )
                return
        super().finish_request(request, client_address)  # type: ignore[misc]
