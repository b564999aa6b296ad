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

"""What a member keeps on disk about its membership.

pysyncobj's log records membership *changes* only, not the voter set a
member started with, and read-only members receive data only from the
current leader ("What read-only members learn" in
doc/source/contributor/design-notes.rst). So every member keeps the
latest full voter list here and starts from it after a restart.
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

FILENAME = 'membership.json'


class MembershipFile:
    def __init__(self, data_dir: str) -> None:
        self.path = os.path.join(data_dir, FILENAME)
        # The tick thread and the control channel both record changes.
        self._lock = threading.Lock()

    def load(self) -> dict[str, Any] | None:
        """The saved record, or None for a member that never ran."""
        try:
            with open(self.path, encoding='utf-8') as f:
                record: dict[str, Any] = json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise ValueError(
                'cannot read %s (%s): restore it from a backup, or move the '
                'data directory aside to join the federation again'
                % (self.path, exc)
            ) from exc
        return record

    def save(self, **record: Any) -> None:
        """Replace the record atomically, so a crash leaves old or new."""
        with self._lock:
            current = self.load() or {}
            current.update(record)
            tmp = '%s.%d.tmp' % (self.path, os.getpid())
            with open(tmp, 'w', encoding='utf-8') as f:
                json.dump(current, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
