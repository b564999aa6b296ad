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

"""Keystone's fernet key repository, as the federation shares it.

A repository is Keystone's ``[fernet_tokens]key_repository``: a directory
of files named by integers, each holding one key. Key 0 is *staged* (the
next primary, already known everywhere), the highest number is the
*primary* (it encrypts new tokens), the others are *secondary* (they still
decrypt). In memory a repository is a mapping ``{index: key}``.

A rotation (:func:`rotate`) is Keystone's ``fernet_rotate``: the staged key
becomes ``max + 1``, a new key is staged as 0, and the oldest keys beyond
``max_active_keys`` are dropped. A token from a site that holds the staged
key validates at a site one rotation ahead; two rotations apart it does
not, so the federation rotates in lock-step (:mod:`sodos.kb.identity_keys`).

In the KB every key is encrypted like a password (:mod:`crypto`) and
carries its SHA-256 *fingerprint*; a repository is named by its *hash*,
the SHA-256 of its indices and fingerprints, which a site computes from
its own directory to say which keys it holds. A fingerprint of a random
256-bit key tells nothing about the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from cryptography import fernet

from sodos.identity import crypto

T = TypeVar('T')


class RepositoryError(ValueError):
    """A key repository is malformed or cannot be used; the message says
    what is wrong."""


def generate_key() -> str:
    return fernet.Fernet.generate_key().decode('ascii')


def check_key(key: str) -> None:
    """:raises RepositoryError: ``key`` is not a fernet key."""
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode('ascii'))
    except (binascii.Error, UnicodeEncodeError, AttributeError):
        raw = b''
    if len(raw) != 32:
        raise RepositoryError(
            'not a fernet key (32 bytes in url-safe base64 expected)'
        )


def check_repo(repo: Mapping[int, Any]) -> None:
    """:raises RepositoryError: ``repo`` is not a usable repository."""
    if any(not isinstance(i, int) or i < 0 for i in repo):
        raise RepositoryError('key indices must be integers >= 0')
    if 0 not in repo:
        raise RepositoryError('no staged key 0')
    if len(repo) < 2:
        raise RepositoryError(
            'a staged key 0 and a primary key are needed, found %d key(s)'
            % len(repo)
        )


def rotate(
    repo: Mapping[int, T], max_active_keys: int, new_key: T
) -> dict[int, T]:
    """The repository after one ``keystone-manage fernet_rotate``.

    Generic over what a key is, so the leader rotates the encrypted keys
    of the KB without reading them: only the new staged key is new.
    """
    if max_active_keys < 1:
        raise RepositoryError('max_active_keys must be at least 1')
    if 0 not in repo:
        raise RepositoryError('no staged key 0 to promote')
    kept = {index: key for index, key in repo.items() if index != 0}
    kept[max(repo) + 1] = repo[0]
    # As Keystone: the old keys and the new primary keep max - 1 places,
    # the lowest numbers (the oldest keys) go first.
    excess = len(kept) - (max_active_keys - 1)
    for index in sorted(kept)[: max(0, excess)]:
        del kept[index]
    kept[0] = new_key
    return dict(sorted(kept.items()))


def initial_repo(
    max_active_keys: int, new_key: Callable[[], str] = generate_key
) -> dict[int, str]:
    """A new repository, as ``keystone-manage fernet_setup`` makes it."""
    return rotate({0: new_key()}, max_active_keys, new_key())


def fingerprint(key: str) -> str:
    return hashlib.sha256(key.strip().encode('ascii')).hexdigest()


def repo_hash(fingerprints: Mapping[int, str]) -> str:
    """The name of a repository, from its keys' fingerprints."""
    text = ''.join(
        '%d:%s\n' % (index, fingerprints[index])
        for index in sorted(fingerprints)
    )
    return hashlib.sha256(text.encode('ascii')).hexdigest()


def content_hash(repo: Mapping[int, str]) -> str:
    """The name of a repository, from its keys."""
    return repo_hash({i: fingerprint(key) for i, key in repo.items()})


# -- in the KB: encrypted ------------------------------------------------


def seal(
    box: crypto.PasswordBox, repo: Mapping[int, str]
) -> dict[str, dict[str, str]]:
    """``repo`` as the KB stores it: ``{'index': {ciphertext, key_id,
    fingerprint}}``; no key in clear."""
    sealed = {}
    for index, key in sorted(repo.items()):
        check_key(key)
        sealed[str(index)] = dict(
            box.encrypt(key.strip()), fingerprint=fingerprint(key)
        )
    return sealed


def sealed_hash(sealed: Mapping[str, Mapping[str, str]]) -> str:
    return repo_hash(
        {int(index): entry['fingerprint'] for index, entry in sealed.items()}
    )


def unseal(
    box: crypto.PasswordBox, sealed: Mapping[str, Mapping[str, str]]
) -> dict[int, str]:
    """The keys of a sealed repository.

    :raises SecretError: encrypted with another ``[identity]secret``.
    :raises RepositoryError: a key does not match its fingerprint.
    """
    repo = {}
    for index, entry in sealed.items():
        key = box.decrypt(dict(entry))
        if fingerprint(key) != entry.get('fingerprint'):
            raise RepositoryError(
                'key %s does not match its fingerprint: the KB copy is '
                'damaged' % index
            )
        check_key(key)
        repo[int(index)] = key
    check_repo(repo)
    return repo


# -- on disk --------------------------------------------------------------
