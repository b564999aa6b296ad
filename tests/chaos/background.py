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

"""Work that runs in threads of its own beside a chaos run (the
workload's clients, the appliance creator, the nemesis) until it is
done or told to stop."""

from __future__ import annotations

import threading


class Background:
    """Daemon threads, each running ``_run(index)``, that a subclass's
    ``_run`` ends early once ``stopping`` is set: it waits on that event
    rather than sleeping, so that ``stop`` takes effect at once.

    The threads are daemons, and ``stop`` waits ``join_timeout`` seconds
    at most for each: a thread stuck in a call to a site that never
    answers must not keep the run (and its sites) from ending."""

    def __init__(
        self, name: str, threads: int = 1, join_timeout: float = 60.0
    ) -> None:
        self.name = name
        self.thread_count = threads
        self.join_timeout = join_timeout
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.thread_count):
            thread = threading.Thread(
                target=self._run,
                args=(index,),
                # Numbered only where there are several.
                name=self.name
                if self.thread_count == 1
                else '%s-%d' % (self.name, index),
                daemon=True,
            )
            thread.start()
            self.threads.append(thread)

    def stop(self) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.join_timeout)

    def _run(self, index: int) -> None:
        """The work of thread ``index`` (0 where there is one)."""
        raise NotImplementedError
