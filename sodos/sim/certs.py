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

"""A throwaway CA and site certificates for a federation on loopback.

Sites talk mutual TLS only (:mod:`sodos.tls`), so a local federation
(``sodos-sim``, the tests, the benchmarks) makes its own CA in its
directory and one certificate per site, valid for 127.0.0.1, ::1 and
localhost. Never for a real deployment: the CA key lies next to the
certificates, unprotected.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.oid import NameOID

VALID_DAYS = 30
LOOPBACK_NAMES: list[x509.GeneralName] = [
    x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
    x509.IPAddress(ipaddress.ip_address('::1')),
    x509.DNSName('localhost'),
]


def _names(hosts: Iterable[str]) -> list[x509.GeneralName]:
    names = list(LOOPBACK_NAMES)
    for host in hosts:
        try:
            name: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            name = x509.DNSName(host)
        if name not in names:
            names.append(name)
    return names


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


class LocalCA:
    """A CA in ``directory`` (made on first use, reused after)."""

    def __init__(self, directory: str, name: str | None = None) -> None:
        self.directory = directory
        self.ca_file = os.path.join(directory, 'ca.pem')
        key_file = os.path.join(directory, 'ca-key.pem')
        os.makedirs(directory, mode=0o700, exist_ok=True)
        if os.path.exists(self.ca_file) and os.path.exists(key_file):
            with open(key_file, 'rb') as f:
                key = serialization.load_pem_private_key(f.read(), None)
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            with open(self.ca_file, 'rb') as f:
                self._cert = x509.load_pem_x509_certificate(f.read())
            self._key = key
            return
        self._key = ec.generate_private_key(ec.SECP256R1())
        # A name of its own: two local CAs are told apart by name first.
        name = name or 'sodos local CA %s' % os.urandom(4).hex()
        now = datetime.datetime.now(datetime.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(
                x509.BasicConstraints(ca=True, path_length=0), critical=True
            )
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        _write(key_file, _key_pem(self._key))
        _write(
            self.ca_file, self._cert.public_bytes(serialization.Encoding.PEM)
        )

    def issue(self, name: str, hosts: Iterable[str] = ()) -> dict[str, str]:
        """A certificate and key for site ``name``, in the CA's
        directory: the ``[raft]ssl_*`` options that use them.

        Valid for loopback and for ``hosts`` (IP addresses or names), as
        when sites listen on addresses of their own (network namespaces).
        """
        cert_file = os.path.join(self.directory, name + '.pem')
        key_file = os.path.join(self.directory, name + '-key.pem')
        if not (os.path.exists(cert_file) and os.path.exists(key_file)):
            key = ec.generate_private_key(ec.SECP256R1())
            now = datetime.datetime.now(datetime.UTC)
            cert = (
                x509.CertificateBuilder()
                .subject_name(_name(name))
                .issuer_name(self._cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
                .add_extension(
                    x509.SubjectAlternativeName(_names(hosts)),
                    critical=False,
                )
                .add_extension(
                    x509.ExtendedKeyUsage(
                        [
                            ExtendedKeyUsageOID.SERVER_AUTH,
                            ExtendedKeyUsageOID.CLIENT_AUTH,
                        ]
                    ),
                    critical=False,
                )
                .sign(self._key, hashes.SHA256())
            )
            _write(key_file, _key_pem(key))
            _write(cert_file, cert.public_bytes(serialization.Encoding.PEM))
        return {
            'ssl_ca_file': self.ca_file,
            'ssl_cert_file': cert_file,
            'ssl_key_file': key_file,
        }
