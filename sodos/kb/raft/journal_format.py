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

"""The Raft journal's files: checksummed records and a checksummed meta.

The journal file is a header, then records of ``crc32, length, index,
term, command``; the checksum covers everything after it. A torn tail (the
last record cut short or unreadable, as a crash while appending leaves
it) is cut off with a warning; a bad record anywhere else is corruption
(:class:`JournalCorrupt`, naming the file and the offset). The term and
vote live in a JSON side file with its own checksum, replaced atomically.
sodos.kb.raft.journal says why pysyncobj's own format is not enough.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from typing import Any

LOG = logging.getLogger(__name__)

MAGIC = b'sodos raft journal 1\n'
# crc32, command length, index, term
RECORD = struct.Struct('<IIQQ')

Entry = tuple[bytes, int, int]


class JournalCorrupt(Exception):
    """A Raft file of this member fails its check."""


def _crc(length: int, index: int, term: int, command: bytes) -> int:
    head = RECORD.pack(0, length, index, term)[4:]
    return zlib.crc32(command, zlib.crc32(head))


def record(command: bytes, index: int, term: int) -> bytes:
    length = len(command)
    crc = _crc(length, index, term, command)
    return RECORD.pack(crc, length, index, term) + command


def scan(path: str) -> tuple[list[Entry], list[int], int]:
    """(entries, their offsets, where valid data ends) of a journal file.

    Raises JournalCorrupt for a bad record that is not the file's tail.
    """
    with open(path, 'rb') as f:
        data = f.read()
    if not data.startswith(MAGIC):
        raise JournalCorrupt('%s: not a sodos Raft journal' % path)
    entries: list[Entry] = []
    offsets: list[int] = []
    offset = len(MAGIC)
    while offset < len(data):
        entry = _read_record(data, offset)
        if entry is None:
            if _is_tail(data, offset):
                LOG.warning(
                    'raft: %s: cut off a torn record at byte %d of %d (a '
                    'crash while appending)',
                    path,
                    offset,
                    len(data),
                )
                break
            raise JournalCorrupt(
                '%s: the record at byte %d fails its checksum' % (path, offset)
            )
        entries.append(entry)
        offsets.append(offset)
        offset += RECORD.size + len(entry[0])
    return entries, offsets, offset


def _read_record(data: bytes, offset: int) -> Entry | None:
    if offset + RECORD.size > len(data):
        return None
    crc, length, index, term = RECORD.unpack_from(data, offset)
    start = offset + RECORD.size
    if start + length > len(data):
        return None
    command = data[start : start + length]
    if _crc(length, index, term, command) != crc:
        return None
    return command, index, term


def _is_tail(data: bytes, offset: int) -> bool:
    """Whether the bad record at ``offset`` is the file's last: nothing
    after it, or only zeros (space the file system gave but never
    filled), or no valid record anywhere after it."""
    crc, length, _index, _term = RECORD.unpack_from(
        data.ljust(offset + RECORD.size, b'\0'), offset
    )
    end = offset + RECORD.size + length
    if end >= len(data) or not data[offset:].strip(b'\0'):
        return True
    return _read_record(data, end) is None and not data[end:].strip(b'\0')


class Meta:
    """The term, vote and commit index, in a checksummed JSON file."""

    def __init__(self, path: str, durable: bool) -> None:
        self.path = path
        self.durable = durable
        self.values: dict[str, Any] = {}

    def load(self) -> dict[str, Any]:
        if not os.path.exists(self.path):
            return {}
        with open(self.path, 'rb') as f:
            raw = f.read()
        try:
            stored = json.loads(raw)
            values = stored['values']
            body = json.dumps(values, sort_keys=True).encode()
            if zlib.crc32(body) != stored['crc']:
                raise ValueError('checksum mismatch')
        except (ValueError, KeyError, TypeError) as exc:
            raise JournalCorrupt(
                '%s: the Raft term and vote are unreadable (%s)'
                % (self.path, exc)
            ) from None
        self.values = dict(values)
        return self.values

    def store(self, durable: bool = True) -> None:
        """Write the values; ``durable`` False: without waiting for the
        disk, when what changed is not needed for safety (the file is
        still replaced whole, and the last durable version stays on disk
        until the new one is)."""
        body = json.dumps(self.values, sort_keys=True).encode()
        raw = json.dumps({'values': self.values, 'crc': zlib.crc32(body)})
        replace_file(self.path, raw.encode(), self.durable and durable)


def replace_file(path: str, data: bytes, durable: bool) -> None:
    """Write ``path`` atomically (and durably unless told otherwise)."""
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
        f.flush()
        if durable:
            os.fsync(f.fileno())
    os.replace(tmp, path)
    if durable:
        _sync_dir(path)


def _sync_dir(path: str) -> None:
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
