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

"""The threads beside a chaos run: each runs its share of the work
until told to stop."""

import threading

from tests.chaos import background


class Waiting(background.Background):
    """Each thread says it runs, then waits for ``stopping``."""

    def __init__(self, threads):
        super().__init__('waiting', threads=threads, join_timeout=10.0)
        self.running = []
        self.ended = []
        self.lock = threading.Lock()
        self.all_running = threading.Event()

    def _run(self, index):
        with self.lock:
            self.running.append((index, threading.current_thread().name))
            if len(self.running) == self.thread_count:
                self.all_running.set()
        self.stopping.wait()
        with self.lock:
            self.ended.append(index)


def test_each_thread_runs_its_index_until_stopped():
    work = Waiting(3)
    work.start()
    assert work.all_running.wait(10)
    assert sorted(work.running) == [
        (0, 'waiting-0'),
        (1, 'waiting-1'),
        (2, 'waiting-2'),
    ]
    assert work.ended == []
    work.stop()
    assert sorted(work.ended) == [0, 1, 2]
    assert not any(t.is_alive() for t in work.threads)
    assert all(t.daemon for t in work.threads)


def test_a_single_thread_is_not_numbered():
    work = Waiting(1)
    work.start()
    assert work.all_running.wait(10)
    work.stop()
    assert work.running == [(0, 'waiting')]
    assert work.ended == [0]
