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
import ctypes
import errno
import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any
from typing import TypeVar

from cryptography import fernet

from sodos.identity import crypto

T = TypeVar('T')
# Keystone takes any file whose name int() reads; sodos writes and reads
# plain decimal names only.
_INDEX = re.compile(r'^[0-9]{1,9}$')
FILE_MODE = 0o600
DIR_MODE = 0o700
# renameat2(2): swap two paths in one step (Linux 3.15+, glibc 2.28+).
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NO_EXCHANGE = (
    errno.ENOSYS,
    errno.EINVAL,
    errno.ENOTSUP,
    errno.EXDEV,
    errno.EBUSY,
)


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


def read_repo(directory: str) -> dict[int, str]:
    """The keys in ``directory``, as Keystone reads them ({} if absent).

    Files not named by a number, and empty ones, are skipped (Keystone
    skips them too).
    """
    repo: dict[int, str] = {}
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return repo
    except OSError as exc:
        raise RepositoryError(
            'cannot list %s: %s' % (directory, exc.strerror)
        ) from None
    for name in names:
        path = os.path.join(directory, name)
        if not _INDEX.match(name) or not os.path.isfile(path):
            continue
        try:
            with open(path) as f:
                key = f.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise RepositoryError('cannot read %s: %s' % (path, exc)) from None
        if key:
            repo[int(name)] = key
    return repo


def write_repo(directory: str, repo: Mapping[int, str]) -> None:
    """Make ``directory`` hold exactly ``repo``, never partly.

    The keys are written into a new directory beside it, which then
    takes its place in one step (``renameat2`` exchange). Where the
    system cannot exchange, or the parent cannot be written (an
    ``/etc/keystone`` owned by root), each new file is written complete
    under another name and renamed into place, and the extra ones are
    removed last. Either way Keystone, which reads the directory at every
    token operation, never sees it empty or a key half written. The
    directory keeps its owner, group and group-read bit when the process
    may keep them (Keystone must read it); files are 0600 and the
    directory 0700 otherwise.

    :raises RepositoryError: ``repo`` is not a repository, or the parent
        directory cannot be written.
    """
    check_repo(repo)
    for key in repo.values():
        check_key(key)
    target = os.path.realpath(directory)
    parent, name = os.path.split(target)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise RepositoryError(
            'cannot use %s: %s' % (target, exc.strerror)
        ) from None
    if old is not None and not stat.S_ISDIR(old.st_mode):
        raise RepositoryError('%s is not a directory' % target)
    _remove_leftovers(parent, name)
    new: str | None = None
    try:
        new = tempfile.mkdtemp(prefix='.%s.' % name, suffix='.new', dir=parent)
    except OSError as exc:
        if old is None:
            raise RepositoryError(
                'cannot create %s: %s' % (target, exc.strerror)
            ) from None
        # The parent is not ours to write (/etc/keystone): file by file.
    try:
        if new is not None:
            _fill(new, repo, old)
        if new is not None and old is None:
            os.rename(new, target)
        elif old is not None and (new is None or not _exchange(new, target)):
            _merge(target, repo, old)
        # After an exchange ``new`` holds the old keys: removed below.
    except OSError as exc:
        raise RepositoryError(
            'cannot replace %s: %s' % (target, exc.strerror or exc)
        ) from None
    finally:
        if new is not None:
            shutil.rmtree(new, ignore_errors=True)
    if new is not None and os.path.exists(new):
        raise RepositoryError(
            'the new keys are in %s but the old ones are left in %s: '
            'remove it' % (target, new)
        )


def _remove_leftovers(parent: str, name: str) -> None:
    """Old keys in directories an interrupted write left beside it."""
    try:
        names = os.listdir(parent)
    except OSError:
        return
    for entry in names:
        if entry.startswith('.%s.' % name) and entry.endswith('.new'):
            shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _modes(old: os.stat_result | None) -> tuple[int, int]:
    """(directory mode, file mode): 0700/0600 plus the old group-read."""
    if old is None or not old.st_mode & 0o040:
        return DIR_MODE, FILE_MODE
    return DIR_MODE | (old.st_mode & 0o050), FILE_MODE | 0o040


def _keep_owner(path: str, old: os.stat_result | None) -> None:
    if old is None:
        return
    if (old.st_uid, old.st_gid) == (os.geteuid(), os.getegid()):
        return
    try:
        os.chown(path, old.st_uid, old.st_gid)
    except PermissionError:
        # Not root: keep at least the group when this process is in it.
        try:
            os.chown(path, -1, old.st_gid)
        except PermissionError:
            pass


def _write_key(
    path: str, key: str, mode: int, old: os.stat_result | None
) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, key.strip().encode('ascii'))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, mode)  # whatever the umask
    _keep_owner(path, old)


def _fill(
    new: str, repo: Mapping[int, str], old: os.stat_result | None
) -> None:
    dir_mode, file_mode = _modes(old)
    for index, key in sorted(repo.items()):
        _write_key(os.path.join(new, str(index)), key, file_mode, old)
    os.chmod(new, dir_mode)
    _keep_owner(new, old)
    _fsync_dir(new)


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _renameat2() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    return getattr(libc, 'renameat2', None)


def _exchange(a: str, b: str) -> bool:
    """Swap paths ``a`` and ``b`` in one step; False if unsupported."""
    func = _renameat2()
    if func is None:
        return False
    done = func(
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), b)


def _merge(target: str, repo: Mapping[int, str], old: os.stat_result) -> None:
    """Bring ``repo`` into ``target`` one atomic rename per file.

    Each file is written complete under a name Keystone skips, then
    renamed into place inside ``target`` (which works even when it is a
    mount point). New indices first (after a rotation: the new primary,
    the old staged key that every site already holds), then replaced
    ones (the new staged key), the extra ones last: at every step the
    directory holds a working repository.
    """
    _, file_mode = _modes(old)
    current = read_repo(target)
    added = [i for i in sorted(repo) if i not in current]
    replaced = [
        i for i in sorted(repo) if i in current and current[i] != repo[i]
    ]
    for index in added + replaced:
        staging = os.path.join(target, '.%d.new' % index)
        if os.path.lexists(staging):
            os.unlink(staging)  # left by an interrupted run
        _write_key(staging, repo[index], file_mode, old)
        os.rename(staging, os.path.join(target, str(index)))
    for index in sorted(set(current) - set(repo)):
        os.unlink(os.path.join(target, str(index)))
    _fsync_dir(target)
