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

"""Passwords in the Knowledge Base, encrypted with the federation secret.

The KB is replicated to every site and written to every member's journal
and snapshots: a password must never be there in clear. The proposer
encrypts it with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived
by HKDF-SHA256 from ``[identity]secret``; the Exec of each site decrypts
it only to hand it to its own Keystone, which hashes it. Keystone offers
no way to take a hash, so in the ``api`` mode the plaintext must reach
each site this way.

A stored password is ``{'ciphertext', 'key_id', 'version'}``: ``key_id``
(a digest of the derived key, not of the secret) tells a site whose
secret differs why it cannot read it; ``version`` is bumped by the KB at
each new password, so that a site sets it once.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography import fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf import hkdf

# Changing these changes every derived key: stored passwords would need
# to be set again.
_SALT = b'sodos identity password encryption'
_INFO = b'sodos-identity-v1'
MAX_PASSWORD = 1024


class SecretError(ValueError):
    """A password cannot be encrypted or decrypted; the message says why."""


class PasswordBox:
    """Encrypts and decrypts passwords with a key made from a secret."""

    def __init__(self, secret: str | None) -> None:
        if not secret:
            raise SecretError(
                '[identity]secret is not set: passwords cannot be stored '
                'or read (set the same secret at every site)'
            )
        key = hkdf.HKDF(
            algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO
        ).derive(secret.encode('utf-8'))
        self._fernet = fernet.Fernet(base64.urlsafe_b64encode(key))
        self.key_id = hashlib.sha256(b'key-id' + key).hexdigest()[:16]

    def __repr__(self) -> str:
        # Never the key or the secret, whatever logs the object.
        return '<PasswordBox key_id=%s>' % self.key_id

    def encrypt(self, plaintext: str) -> dict[str, str]:
        """The stored form of ``plaintext`` (no version: the KB sets it)."""
        if not isinstance(plaintext, str) or not plaintext:
            raise SecretError('a password must be a non-empty string')
        if len(plaintext) > MAX_PASSWORD:
            raise SecretError(
                'a password is at most %d characters' % MAX_PASSWORD
            )
        token = self._fernet.encrypt(plaintext.encode('utf-8'))
        return {'ciphertext': token.decode('ascii'), 'key_id': self.key_id}

    def decrypt(self, stored: dict[str, Any]) -> str:
        """The plaintext of a stored password.

        :raises SecretError: the password was encrypted with another
            secret, or is damaged.
        """
        if stored.get('key_id') not in (None, self.key_id):
            raise SecretError(
                'the password was encrypted with another [identity]secret '
                '(key %s, this site has %s): give every site the same '
                'secret, or set the password again'
                % (stored.get('key_id'), self.key_id)
            )
        try:
            plain = self._fernet.decrypt(stored['ciphertext'].encode('ascii'))
        except (fernet.InvalidToken, KeyError, AttributeError) as exc:
            raise SecretError(
                'the stored password cannot be decrypted with this '
                "site's [identity]secret"
            ) from exc
        return plain.decode('utf-8')
