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


"""Updates waiting to be piggybacked, each a bounded number of times.

One update per member: a newer one about the same member replaces the
older (it supersedes it, and re-spreading the old one would only cost
room). The least-sent go first, so a fresh update overtakes old news.
"""

from __future__ import annotations

from sodos.knowmon.gossip import messages


class Broadcasts:
    def __init__(self) -> None:
        # Member -> (update, times sent, order queued: ties go oldest first).
        self._queue: dict[str, tuple[messages.Update, int, int]] = {}
        self._counter = 0

    def __len__(self) -> int:
        return len(self._queue)

    def queue(self, update: messages.Update) -> None:
        self._counter += 1
        self._queue[update.member] = (update, 0, self._counter)

    def pending(self, member: str) -> messages.Update | None:
        entry = self._queue.get(member)
        return entry[0] if entry else None

    def take(self, room: int, limit: int) -> list[messages.Update]:
        """Up to ``room`` updates to piggyback on one message; each
        counts as sent once more, and goes after ``limit`` sends."""
        chosen = sorted(
            self._queue.items(), key=lambda item: (item[1][1], item[1][2])
        )[:room]
        taken = []
        for member, (update, sent, order) in chosen:
            taken.append(update)
            if sent + 1 >= limit:
                del self._queue[member]
            else:
                self._queue[member] = (update, sent + 1, order)
        return taken

    def forget(self, member: str) -> None:
        self._queue.pop(member, None)
