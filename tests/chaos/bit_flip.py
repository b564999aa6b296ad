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

"""A bit flipped in a site's Raft files, as the ``bitflip`` fault does
to a killed site: on its restart the site must find the files bad, set
them aside and replicate afresh."""

from __future__ import annotations

import os
import random
from typing import Any

from sodos.kb.raft import journal as raft_journal
from sodos.kb.raft import settings as raft_settings


def raft_files(data_dir: str) -> list[str]:
    """A site's Raft files that exist, the journal's meta included."""
    journal = raft_settings.journal_path(data_dir)
    found = [
        journal,
        raft_journal.meta_path(journal),
        raft_settings.dump_path(data_dir),
    ]
    return [p for p in found if os.path.exists(p) and os.path.getsize(p)]


def flip_bit(rng: random.Random, data_dir: str) -> dict[str, Any]:
    """Flip one bit of one of the Raft files in ``data_dir``, as chosen by
    ``rng``; where it was."""
    files = raft_files(data_dir)
    if not files:
        return {'file': None}
    path = rng.choice(files)
    size = os.path.getsize(path)
    offset, bit = rng.randrange(size), rng.randrange(8)
    with open(path, 'r+b') as f:
        f.seek(offset)
        byte = f.read(1)[0]
        f.seek(offset)
        f.write(bytes([byte ^ (1 << bit)]))
    return {
        'file': os.path.basename(path),
        'offset': offset,
        'bit': bit,
        'size': size,
    }
