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

"""The Raft log on disk: every record checksummed, synced by policy.

pysyncobj 0.3.17's FileJournal keeps the log in an mmap that is never
synced while the member runs (upstream issue #84, open), stores records
without a checksum (a flipped bit is applied as it is; a corrupt command
hung a member in ``pickle.loads`` while its memory grew), fails on a
truncated file with a bare ``struct.error`` that names no file, and
forgets the term and vote silently when its side file is unreadable.

:class:`CheckedJournal` keeps pysyncobj's journal interface (its
``createJournal`` is replaced by :func:`install`) over the files of
sodos.kb.raft.journal_format. ``[raft]fsync`` says when it syncs:

``always``
    after every append and truncation;
``batch``
    before the member acknowledges entries to the leader or counts its
    own log towards a commit (RepairingSyncObj calls :meth:`sync` there):
    one sync per batch of entries;
``off``
    never: an acknowledged write survives the process, not the machine
    (pysyncobj's behaviour).

The term and vote are always written durably (unless ``off``) before the
vote leaves the member. A journal in pysyncobj's format is converted once.
"""

from __future__ import annotations

import gzip
import logging
import os
import threading
from typing import Any

from pysyncobj import journal as pysyncobj_journal
from pysyncobj import syncobj as pysyncobj_syncobj

from sodos.kb.raft import journal_format as fmt
from sodos.kb.raft.journal_format import JournalCorrupt

LOG = logging.getLogger(__name__)

POLICIES = ('always', 'batch', 'off')
PYSYNCOBJ_MAGIC = b'PYSYNCOBJ'

# The fsync policy of each journal path this process opens (set by the
# runner before it builds a SyncObj: pysyncobj passes only the path).
_policies: dict[str, str] = {}
_installed = threading.Lock()
# The last scan check_files made of each journal, with the file's size and
# mtime then: the journal opened right after reuses it instead of reading
# (and checksumming) the whole file a second time.
_scans: dict[str, tuple[tuple[int, int], Any]] = {}


def meta_path(journal: str) -> str:
    """The file of a journal's term, vote and commit index."""
    return journal + '.state'


def _stamp(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns)


def _scan(path: str) -> Any:
    """fmt.scan, or the scan check_files just made of the same file."""
    stamp, scanned = _scans.pop(os.path.abspath(path), (None, None))
    if stamp is not None and stamp == _stamp(path):
        return scanned
    return fmt.scan(path)


class CheckedJournal(pysyncobj_journal.Journal):
    """pysyncobj's journal interface on checksummed, synced files."""

    def __init__(self, path: str, policy: str = 'batch') -> None:
        if policy not in POLICIES:
            raise ValueError('fsync policy %r not in %s' % (policy, POLICIES))
        self.path = path
        self.policy = policy
        self._meta = fmt.Meta(meta_path(path), durable=policy != 'off')
        _convert_pysyncobj_journal(path, self._meta)
        if not os.path.exists(path):
            fmt.replace_file(path, fmt.MAGIC, policy != 'off')
        self._entries, self._offsets, end = _scan(path)
        self._meta.load()
        self._fd = os.open(path, os.O_RDWR)
        if os.fstat(self._fd).st_size != end:
            os.ftruncate(self._fd, end)
        self._end = end
        self._dirty = False
        self._meta_saved = True

    # -- the log ---------------------------------------------------------

    def add(self, command: bytes, idx: int, term: int) -> None:
        command = bytes(command)
        record = fmt.record(command, idx, term)
        os.pwrite(self._fd, record, self._end)
        self._entries.append((command, idx, term))
        self._offsets.append(self._end)
        self._end += len(record)
        self._written()

    def clear(self) -> None:
        self._truncate(0)

    def deleteEntriesFrom(self, entryFrom: int) -> None:
        self._truncate(entryFrom)

    def deleteEntriesTo(self, entryTo: int) -> None:
        # Compaction: the file is rewritten with what is kept, then
        # replaces the old one at once.
        kept = self._entries[entryTo:]
        data, offsets, end = [fmt.MAGIC], [], len(fmt.MAGIC)
        for entry in kept:
            record = fmt.record(*entry)
            data.append(record)
            offsets.append(end)
            end += len(record)
        os.close(self._fd)
        fmt.replace_file(self.path, b''.join(data), self.policy != 'off')
        self._entries, self._offsets, self._end = kept, offsets, end
        self._fd = os.open(self.path, os.O_RDWR)

    def _truncate(self, keep: int) -> None:
        if keep >= len(self._entries):
            return
        self._end = self._offsets[keep] if keep else len(fmt.MAGIC)
        del self._entries[keep:]
        del self._offsets[keep:]
        os.ftruncate(self._fd, self._end)
        self._written()

    def __getitem__(self, item: Any) -> Any:
        return self._entries[item]

    def __len__(self) -> int:
        return len(self._entries)

    # -- durability ------------------------------------------------------

    def _written(self) -> None:
        self._dirty = True
        if self.policy == 'always':
            self.sync()

    def sync(self) -> None:
        """Make what was written durable (a no-op with fsync off)."""
        if self._dirty and self.policy != 'off':
            os.fdatasync(self._fd)
        self._dirty = False

    def flush(self) -> None:
        self.sync()

    def _destroy(self) -> None:
        self.sync()
        self._meta.store()
        os.close(self._fd)

    # -- term, vote and commit index ---------------------------------------

    def setRaftCommitIndex(self, raftCommitIndex: int) -> None:
        # Not needed for safety (pysyncobj clamps it to the log): stored
        # once a second, as pysyncobj does.
        self._meta.values['commit_index'] = raftCommitIndex
        self._meta_saved = False

    def getRaftCommitIndex(self) -> int:
        return int(self._meta.values.get('commit_index', 1))

    def setCurrentTerm(self, term: int, votedForNodeId: Any) -> None:
        # Raft needs both on disk before a message that shows them leaves.
        self._meta.values['term'] = term
        self._meta.values['voted_for'] = votedForNodeId
        self._meta.store()
        self._meta_saved = True

    def getCurrentTerm(self) -> int:
        return int(self._meta.values.get('term', 0))

    def getVotedForNodeId(self) -> Any:
        return self._meta.values.get('voted_for')

    def onOneSecondTimer(self) -> None:
        if not self._meta_saved:
            # Only the commit index changed since the last store (a term
            # or vote is stored durably at once): it is not needed for
            # safety, so the Raft thread does not wait for the disk,
            # which it did once a second on every member while entries
            # were committed (two fsyncs each, the file's and its
            # directory's).
            self._meta.store(durable=False)
            self._meta_saved = True


def _convert_pysyncobj_journal(path: str, meta: fmt.Meta) -> None:
    """Rewrite a journal in pysyncobj's format in this one's, once."""
    try:
        with open(path, 'rb') as f:
            head = f.read(len(PYSYNCOBJ_MAGIC))
    except FileNotFoundError:
        return
    if head != PYSYNCOBJ_MAGIC:
        return
    try:
        old = pysyncobj_journal.FileJournal(path)
        entries = [old[i] for i in range(len(old))]
        meta.values = {
            'term': old.getCurrentTerm(),
            'voted_for': old.getVotedForNodeId(),
            'commit_index': old.getRaftCommitIndex(),
        }
        old._destroy()
    except Exception as exc:
        raise JournalCorrupt(
            '%s: a journal in pysyncobj format that cannot be read (%s: %s)'
            % (path, type(exc).__name__, exc)
        ) from None
    data = [fmt.MAGIC] + [fmt.record(bytes(c), i, t) for c, i, t in entries]
    meta.store()
    fmt.replace_file(path, b''.join(data), meta.durable)
    if os.path.exists(path + '.meta'):
        os.remove(path + '.meta')
    LOG.info(
        'raft: converted %s (%d entries) to checksummed records',
        path,
        len(entries),
    )


def configure(path: str, policy: str) -> None:
    """Use ``policy`` for the journal at ``path`` (see the docstring)."""
    install()
    _policies[os.path.abspath(path)] = policy


def _create_journal(path: str | None) -> Any:
    if path is None:
        return pysyncobj_journal.MemoryJournal()
    return CheckedJournal(path, _policies.get(os.path.abspath(path), 'batch'))


def install() -> None:
    """Make pysyncobj open its journals as :class:`CheckedJournal`."""
    with _installed:
        if pysyncobj_syncobj.createJournal is not _create_journal:
            pysyncobj_syncobj.createJournal = _create_journal


def check_files(journal: str, dump: str) -> list[str]:
    """What is wrong with a member's Raft files, before it starts on them.

    Reads the journal and its meta through their checksums and the dump
    (gzip) through its CRC; an empty list when all is well.
    """
    problems = []
    if os.path.exists(journal):
        try:
            with open(journal, 'rb') as f:
                own = f.read(len(fmt.MAGIC)) == fmt.MAGIC
            if own:
                stamp = _stamp(journal)
                _scans[os.path.abspath(journal)] = (stamp, fmt.scan(journal))
                fmt.Meta(meta_path(journal), durable=False).load()
        except (JournalCorrupt, OSError) as exc:
            problems.append(str(exc))
    if os.path.exists(dump):
        try:
            with gzip.open(dump, 'rb') as f:
                while f.read(1 << 20):
                    pass
        except (OSError, EOFError, ValueError) as exc:
            problems.append(
                '%s: the snapshot is unreadable (%s)'
                % (dump, exc or 'cut short')
            )
    return problems
