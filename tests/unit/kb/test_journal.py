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

"""The checksummed Raft journal (sodos.kb.raft.journal)."""

import gzip
import logging
import os

import pytest
from pysyncobj import journal as pysyncobj_journal

from sodos.kb.raft import journal
from sodos.kb.raft import journal_format

ENTRIES = [(b'cmd-%d' % i * (i + 1), i + 1, 1 + i // 3) for i in range(10)]


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / 'journal')


def written(path, entries=ENTRIES, policy='batch'):
    j = journal.CheckedJournal(path, policy)
    for entry in entries:
        j.add(*entry)
    j.setCurrentTerm(4, 'a:1')
    j.setRaftCommitIndex(7)
    j._destroy()
    return j


def test_entries_term_and_vote_survive_a_restart(path):
    written(path)
    j = journal.CheckedJournal(path)
    assert list(j[:]) == ENTRIES and len(j) == 10
    assert (j.getCurrentTerm(), j.getVotedForNodeId()) == (4, 'a:1')
    assert j.getRaftCommitIndex() == 7


def test_the_journal_checked_at_start_is_read_once(path, monkeypatch):
    written(path)
    scans = []
    real_scan = journal_format.scan
    monkeypatch.setattr(
        journal_format, 'scan', lambda p: scans.append(p) or real_scan(p)
    )
    assert journal.check_files(path, path + '.no-dump') == []
    j = journal.CheckedJournal(path)
    assert list(j[:]) == ENTRIES and len(scans) == 1
    j._destroy()
    # The check's scan serves one opening only, and only of the same file.
    journal.check_files(path, path + '.no-dump')
    with open(path, 'ab') as f:
        f.write(journal_format.record(b'more', 11, 4))
    assert len(journal.CheckedJournal(path)) == 11 and len(scans) == 3
    assert len(journal.CheckedJournal(path)) == 11 and len(scans) == 4


def test_truncation_and_compaction_are_on_disk(path):
    j = journal.CheckedJournal(path)
    for entry in ENTRIES:
        j.add(*entry)
    j.deleteEntriesFrom(8)
    j.deleteEntriesTo(3)
    j.add(b'new', 9, 2)
    assert list(j[:]) == ENTRIES[3:8] + [(b'new', 9, 2)]
    j._destroy()
    assert list(journal.CheckedJournal(path)[:]) == (
        ENTRIES[3:8] + [(b'new', 9, 2)]
    )
    j = journal.CheckedJournal(path)
    j.clear()
    j._destroy()
    assert len(journal.CheckedJournal(path)) == 0


def test_a_torn_tail_is_cut_off_with_a_warning(path, caplog):
    written(path)
    size = os.path.getsize(path)
    with open(path, 'r+b') as f:
        f.truncate(size - 3)  # the last record cut short
    with caplog.at_level(logging.WARNING):
        j = journal.CheckedJournal(path)
    assert list(j[:]) == ENTRIES[:-1]
    assert 'torn record' in caplog.text and path in caplog.text
    j.add(b'after', 10, 3)  # appends where the valid data ends
    j._destroy()
    assert list(journal.CheckedJournal(path)[:]) == (
        ENTRIES[:-1] + [(b'after', 10, 3)]
    )


def test_zeros_after_the_last_record_are_a_torn_tail(path):
    written(path)
    with open(path, 'ab') as f:
        f.write(b'\0' * 4096)
    assert list(journal.CheckedJournal(path)[:]) == ENTRIES


def test_a_flipped_bit_inside_the_log_is_corruption(path):
    written(path)
    _, offsets, _ = journal_format.scan(path)
    with open(path, 'r+b') as f:
        f.seek(offsets[4] + journal_format.RECORD.size)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0x10]))
    with pytest.raises(journal.JournalCorrupt) as raised:
        journal.CheckedJournal(path)
    assert path in str(raised.value)
    assert 'byte %d' % offsets[4] in str(raised.value)
    problems = journal.check_files(path, path + '.no-dump')
    assert problems == [str(raised.value)]


def test_an_unreadable_term_and_vote_is_corruption(path):
    written(path)
    with open(path + '.state', 'r+b') as f:
        f.seek(5)
        f.write(b'9')
    with pytest.raises(journal.JournalCorrupt, match='term and vote'):
        journal.CheckedJournal(path)


def test_a_corrupt_snapshot_is_named(tmp_path, path):
    dump = str(tmp_path / 'dump')
    with gzip.open(dump, 'wb') as f:
        f.write(os.urandom(100_000))
    assert journal.check_files(path, dump) == []
    with open(dump, 'r+b') as f:
        f.seek(5000)
        f.write(b'\xff' * 16)
    problems = journal.check_files(path, dump)
    assert len(problems) == 1 and dump in problems[0]
    with open(dump, 'r+b') as f:
        f.truncate(100)
    assert 'unreadable' in journal.check_files(path, dump)[0]


def test_a_pysyncobj_journal_is_converted_once(path):
    old = pysyncobj_journal.FileJournal(path)
    for entry in ENTRIES:
        old.add(*entry)
    old.setCurrentTerm(6, 'b:2')
    old._destroy()
    j = journal.CheckedJournal(path)
    assert list(j[:]) == ENTRIES
    assert (j.getCurrentTerm(), j.getVotedForNodeId()) == (6, 'b:2')
    assert not os.path.exists(path + '.meta')
    j._destroy()
    with open(path, 'rb') as f:
        assert f.read(len(journal_format.MAGIC)) == journal_format.MAGIC


def count_syncs(monkeypatch):
    calls = []
    monkeypatch.setattr(os, 'fdatasync', lambda fd: calls.append(fd))
    return calls


@pytest.mark.parametrize(
    ('policy', 'after_adds', 'after_sync'),
    [('always', 3, 3), ('batch', 0, 1), ('off', 0, 0)],
)
def test_the_fsync_policy(path, monkeypatch, policy, after_adds, after_sync):
    j = journal.CheckedJournal(path, policy)
    calls = count_syncs(monkeypatch)
    for entry in ENTRIES[:3]:
        j.add(*entry)
    assert len(calls) == after_adds
    j.sync()
    j.sync()  # nothing new written: no second sync
    assert len(calls) == after_sync


@pytest.mark.parametrize('policy', ['always', 'batch'])
def test_the_commit_index_is_stored_without_waiting_for_the_disk(
    path, monkeypatch, policy
):
    """A term and vote reach the disk before anything shows them; the
    commit index (not needed for safety) is stored once a second without
    an fsync, which held the Raft thread on every member."""
    j = journal.CheckedJournal(path, policy)
    fsyncs = []
    monkeypatch.setattr(os, 'fsync', lambda fd: fsyncs.append(fd))
    j.setCurrentTerm(5, 'b:2')
    assert len(fsyncs) == 2  # the file and its directory
    j.setRaftCommitIndex(9)
    j.onOneSecondTimer()
    j.onOneSecondTimer()  # nothing new: not stored again
    assert len(fsyncs) == 2
    stored = journal_format.Meta(journal.meta_path(path), durable=True)
    assert stored.load() == {'term': 5, 'voted_for': 'b:2', 'commit_index': 9}


def test_an_unknown_policy_is_refused(path):
    with pytest.raises(ValueError, match='fsync policy'):
        journal.CheckedJournal(path, 'sometimes')


def test_pysyncobj_opens_its_journals_through_sodos(path):
    journal.configure(path, 'always')
    from pysyncobj import syncobj

    opened = syncobj.createJournal(path)
    assert isinstance(opened, journal.CheckedJournal)
    assert opened.policy == 'always'
    opened._destroy()
    assert isinstance(
        syncobj.createJournal(None), pysyncobj_journal.MemoryJournal
    )
