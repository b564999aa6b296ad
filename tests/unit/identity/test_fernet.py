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

"""Fernet key repositories: rotation, hashes, sealing, atomic writes."""

import json
import os

import pytest
from cryptography.fernet import Fernet

from sodos.identity import crypto
from sodos.identity import fernet
from sodos.identity import fernet_repo

SECRET = 'federation identity secret'


def test_initial_repo_is_keystone_fernet_setup():
    made = iter(['k1', 'k2'])
    repo = fernet.initial_repo(3, lambda: next(made))
    # fernet_setup: key 0 made, then one rotation: it becomes primary 1.
    assert repo == {0: 'k2', 1: 'k1'}


@pytest.mark.parametrize(
    'max_keys, expected',
    [
        # Worked by hand from keystone's rotate_keys: the staged key
        # becomes max + 1, the lowest numbers go beyond max_active_keys.
        (3, {0: 'n4', 4: 'n2', 5: 'n3'}),
        (5, {0: 'n4', 2: 'k2', 3: 'n1', 4: 'n2', 5: 'n3'}),
    ],
)
def test_rotation_sequence(max_keys, expected):
    repo = {0: 'k2', 1: 'k1'}
    for n in range(1, 5):
        before, repo = repo, fernet.rotate(repo, max_keys, 'n%d' % n)
        # The new primary is the key every site already held as staged.
        assert repo[max(repo)] == before[0]
        assert repo[0] == 'n%d' % n
        assert len(repo) <= max_keys
    assert repo == expected


def test_rotation_drops_the_oldest_and_keeps_max_keys():
    repo = {0: 's', 1: 'a', 2: 'b', 3: 'c'}
    assert fernet.rotate(repo, 4, 'new') == {
        0: 'new',
        2: 'b',
        3: 'c',
        4: 's',
    }
    assert fernet.rotate(repo, 3, 'new') == {0: 'new', 3: 'c', 4: 's'}
    # Fewer keys than the maximum: nothing dropped.
    assert fernet.rotate(repo, 10, 'new') == {
        0: 'new',
        1: 'a',
        2: 'b',
        3: 'c',
        4: 's',
    }


def test_rotation_needs_a_staged_key():
    with pytest.raises(fernet.RepositoryError, match='no staged key 0'):
        fernet.rotate({1: 'a', 2: 'b'}, 3, 'new')
    with pytest.raises(fernet.RepositoryError, match='at least 1'):
        fernet.rotate({0: 'a', 1: 'b'}, 0, 'new')


def test_check_repo_and_key():
    fernet.check_key(Fernet.generate_key().decode())
    for bad in ('', 'short', 'x' * 44, '!' * 44):
        with pytest.raises(fernet.RepositoryError, match='not a fernet key'):
            fernet.check_key(bad)
    with pytest.raises(fernet.RepositoryError, match='no staged key 0'):
        fernet.check_repo({1: 'a', 2: 'b'})
    with pytest.raises(fernet.RepositoryError, match='found 1 key'):
        fernet.check_repo({0: 'a'})


def test_content_hash_names_the_keys_and_their_places():
    a, b = fernet.generate_key(), fernet.generate_key()
    h = fernet.content_hash({0: a, 1: b})
    assert h == fernet.content_hash({1: b, 0: a})
    # A newline at the end of a file is not another key.
    assert h == fernet.content_hash({0: a + '\n', 1: b})
    assert h != fernet.content_hash({0: b, 1: a})
    assert h != fernet.content_hash({0: a, 2: b})
    assert len(h) == 64


def test_seal_hides_the_keys_and_unseal_checks_them():
    box = crypto.PasswordBox(SECRET)
    repo = fernet.initial_repo(3)
    sealed = fernet.seal(box, repo)
    text = json.dumps(sealed)
    assert all(key not in text for key in repo.values())
    assert fernet.sealed_hash(sealed) == fernet.content_hash(repo)
    assert fernet.unseal(box, sealed) == repo
    with pytest.raises(crypto.SecretError, match='another'):
        fernet.unseal(crypto.PasswordBox('another secret'), sealed)
    # A key swapped for another one encrypted with the same secret.
    damaged = dict(sealed, **{'0': dict(sealed['1'])})
    damaged['0']['fingerprint'] = sealed['0']['fingerprint']
    with pytest.raises(fernet.RepositoryError, match='fingerprint'):
        fernet.unseal(box, damaged)


# -- on disk ------------------------------------------------------------------


def listing(path):
    return {
        name: (oct(os.stat(os.path.join(path, name)).st_mode & 0o777))
        for name in os.listdir(path)
    }


def test_read_repo_reads_as_keystone_does(tmp_path):
    d = tmp_path / 'keys'
    assert fernet_repo.read_repo(str(d)) == {}
    d.mkdir()
    (d / '0').write_text('staged\n')
    (d / '3').write_text('primary')
    (d / '0.tmp').write_text('half written')
    (d / '5').write_text('')
    (d / '7').mkdir()
    assert fernet_repo.read_repo(str(d)) == {0: 'staged', 3: 'primary'}


@pytest.mark.parametrize('exchange', [True, False])
def test_write_repo_replaces_the_directory_whole(
    tmp_path, monkeypatch, exchange
):
    if not exchange:
        monkeypatch.setattr(fernet_repo, '_exchange', lambda a, b: False)
    target = tmp_path / 'fernet-keys'
    first = fernet.initial_repo(3)
    fernet_repo.write_repo(str(target), first)
    assert fernet_repo.read_repo(str(target)) == first
    assert oct(target.stat().st_mode & 0o777) == '0o700'
    assert listing(str(target)) == {'0': '0o600', '1': '0o600'}
    second = fernet.rotate(first, 3, fernet.generate_key())
    fernet_repo.write_repo(str(target), second)
    assert fernet_repo.read_repo(str(target)) == second
    third = fernet.rotate(second, 3, fernet.generate_key())
    fernet_repo.write_repo(str(target), third)
    assert fernet_repo.read_repo(str(target)) == third
    assert sorted(os.listdir(str(target))) == ['0', '2', '3']
    # Nothing left beside it.
    assert os.listdir(str(tmp_path)) == ['fernet-keys']


def test_write_repo_follows_a_symlink(tmp_path):
    real = tmp_path / 'real'
    link = tmp_path / 'link'
    fernet_repo.write_repo(str(real), fernet.initial_repo(3))
    link.symlink_to(real)
    repo = fernet.initial_repo(3)
    fernet_repo.write_repo(str(link), repo)
    assert link.is_symlink()
    assert fernet_repo.read_repo(str(real)) == repo


def test_write_repo_is_never_partial_without_exchange(tmp_path, monkeypatch):
    """File by file, each step leaves a working repository."""
    monkeypatch.setattr(fernet_repo, '_exchange', lambda a, b: False)
    target = str(tmp_path / 'keys')
    first = fernet.initial_repo(3)
    fernet_repo.write_repo(target, first)
    second = fernet.rotate(first, 3, fernet.generate_key())
    third = fernet.rotate(second, 3, fernet.generate_key())
    fernet_repo.write_repo(target, second)
    seen = []
    real_rename, real_unlink = os.rename, os.unlink

    def look():
        seen.append(fernet_repo.read_repo(target))

    # fernet_repo.os is the os module: shutil's own calls pass dir_fd.
    def rename(a, b, **kw):
        real_rename(a, b, **kw)
        if a.startswith(target):
            look()

    def unlink(path, **kw):
        real_unlink(path, **kw)
        if not kw:
            look()

    monkeypatch.setattr(fernet_repo.os, 'rename', rename)
    monkeypatch.setattr(fernet_repo.os, 'unlink', unlink)
    fernet_repo.write_repo(target, third)
    # Key 3 added, key 0 replaced, key 1 removed.
    assert len(seen) == 3
    assert seen[-1] == third
    for state in seen:
        fernet.check_repo(state)
        # The primary is always a key the other sites already hold: the
        # old primary or the new one (the old staged key).
        assert state[max(state)] in (second[max(second)], third[max(third)])


def test_write_repo_keeps_the_owner_and_group_read(tmp_path):
    if os.geteuid() != 0:
        pytest.skip('changing a file owner needs root')
    target = tmp_path / 'keys'
    target.mkdir(mode=0o750)
    os.chown(target, 65534, 65534)
    os.chmod(target, 0o750)
    fernet_repo.write_repo(str(target), fernet.initial_repo(3))
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)
    assert oct(st.st_mode & 0o777) == '0o750'
    for name in ('0', '1'):
        st = (target / name).stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534)
        assert oct(st.st_mode & 0o777) == '0o640'


def test_write_repo_refuses_bad_input_and_changes_nothing(tmp_path):
    target = tmp_path / 'keys'
    repo = fernet.initial_repo(3)
    fernet_repo.write_repo(str(target), repo)
    with pytest.raises(fernet.RepositoryError, match='no staged key 0'):
        fernet_repo.write_repo(
            str(target), {1: fernet.generate_key(), 2: repo[0]}
        )
    with pytest.raises(fernet.RepositoryError, match='not a fernet key'):
        fernet_repo.write_repo(str(target), {0: 'plain text', 1: repo[1]})
    assert fernet_repo.read_repo(str(target)) == repo
    afile = tmp_path / 'file'
    afile.write_text('x')
    with pytest.raises(fernet.RepositoryError, match='not a directory'):
        fernet_repo.write_repo(str(afile), repo)
    with pytest.raises(fernet.RepositoryError, match='cannot create'):
        fernet_repo.write_repo(str(tmp_path / 'missing' / 'keys'), repo)


def test_write_repo_swaps_in_one_step_where_the_system_can(
    tmp_path, monkeypatch
):
    if fernet_repo._renameat2() is None:
        pytest.skip('no renameat2 here')
    swaps = []
    real = fernet_repo._exchange

    def exchange(a, b):
        swaps.append(real(a, b))
        return swaps[-1]

    monkeypatch.setattr(fernet_repo, '_exchange', exchange)
    target = str(tmp_path / 'keys')
    fernet_repo.write_repo(target, fernet.initial_repo(3))
    inode = os.stat(target).st_ino
    repo = fernet.initial_repo(3)
    fernet_repo.write_repo(target, repo)
    assert swaps == [True]
    # Another directory took the path: the old one was not emptied and
    # refilled in place.
    assert os.stat(target).st_ino != inode
    assert fernet_repo.read_repo(target) == repo


def test_write_repo_in_place_when_the_parent_is_not_writable(
    tmp_path, monkeypatch
):
    target = str(tmp_path / 'keys')
    fernet_repo.write_repo(target, fernet.initial_repo(3))
    inode = os.stat(target).st_ino

    def refused(**kwargs):
        raise PermissionError(13, 'Permission denied')

    monkeypatch.setattr(fernet_repo.tempfile, 'mkdtemp', refused)
    repo = fernet.initial_repo(3)
    fernet_repo.write_repo(target, repo)
    assert fernet_repo.read_repo(target) == repo
    assert os.stat(target).st_ino == inode
    assert sorted(os.listdir(target)) == ['0', '1']
    # A missing directory cannot be made there.
    with pytest.raises(fernet.RepositoryError, match='cannot create'):
        fernet_repo.write_repo(str(tmp_path / 'other'), repo)


def test_write_repo_removes_what_an_interrupted_write_left(tmp_path):
    target = str(tmp_path / 'keys')
    leftover = tmp_path / '.keys.abc123.new'
    leftover.mkdir()
    (leftover / '0').write_text(fernet.generate_key())
    unrelated = tmp_path / '.other.abc.new'
    unrelated.mkdir()
    fernet_repo.write_repo(target, fernet.initial_repo(3))
    assert sorted(os.listdir(str(tmp_path))) == ['.other.abc.new', 'keys']
