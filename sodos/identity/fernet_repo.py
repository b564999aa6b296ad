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

"""A fernet key repository on disk, replaced whole or not at all.

Keystone reads ``[fernet_tokens]key_repository`` while sodos writes it:
a new repository is written beside the old one and swapped in at once
(``renameat2(RENAME_EXCHANGE)`` where the file system has it, else a
merge that never leaves a reader without a key it had), keeping the
owner and modes Keystone's own tools give. The keys themselves are
:mod:`sodos.identity.fernet`'s.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Mapping
from typing import Any

from sodos.identity import fernet as keys

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
        raise keys.RepositoryError(
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
            raise keys.RepositoryError(
                'cannot read %s: %s' % (path, exc)
            ) from None
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

    :raises keys.RepositoryError: ``repo`` is not a repository, or the parent
        directory cannot be written.
    """
    keys.check_repo(repo)
    for key in repo.values():
        keys.check_key(key)
    target = os.path.realpath(directory)
    parent, name = os.path.split(target)
    try:
        old = os.stat(target)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        raise keys.RepositoryError(
            'cannot use %s: %s' % (target, exc.strerror)
        ) from None
    if old is not None and not stat.S_ISDIR(old.st_mode):
        raise keys.RepositoryError('%s is not a directory' % target)
    _remove_leftovers(parent, name)
    new: str | None = None
    try:
        new = tempfile.mkdtemp(prefix='.%s.' % name, suffix='.new', dir=parent)
    except OSError as exc:
        if old is None:
            raise keys.RepositoryError(
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
        raise keys.RepositoryError(
            'cannot replace %s: %s' % (target, exc.strerror or exc)
        ) from None
    finally:
        if new is not None:
            shutil.rmtree(new, ignore_errors=True)
    if new is not None and os.path.exists(new):
        raise keys.RepositoryError(
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
