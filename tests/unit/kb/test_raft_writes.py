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

"""Writes submitted as the Raft member stops are answered, never left
waiting: their callers wait without a timeout of their own (a site that
left the federation stops its member while its roles still write, and
its stop then hung on them)."""

import queue

import pytest

from sodos import exception
from sodos.kb.raft import writes

STOPPING = exception.NotReady('the Raft member is stopping')


def wire(name):
    return {'id': name, 'type': 'site.profile', 'args': {}}


def test_a_write_still_queued_when_the_member_stops_fails():
    w = writes.Writes(send=lambda *_: None)
    future = w.submit(wire('a'), timeout=60.0)
    # What the tick thread does as it stops: no tick took the write in.
    w.abandon()
    w.fail_all(STOPPING)
    with pytest.raises(exception.NotReady):
        future.result(timeout=1.0)


def test_a_write_queued_while_the_member_stops_fails():
    w = writes.Writes(send=lambda *_: None)

    class StopsMeanwhile(queue.SimpleQueue):
        def put(self, item, block=True, timeout=None):
            # Abandoned and drained between submit's check and its put.
            w.abandon()
            w.fail_all(STOPPING)
            super().put(item, block, timeout)

    w._outbox = StopsMeanwhile()
    future = w.submit(wire('b'), timeout=60.0)
    with pytest.raises(exception.NotReady):
        future.result(timeout=1.0)


def test_a_write_after_the_member_stopped_fails_at_once():
    w = writes.Writes(send=lambda *_: None)
    w.abandon()
    w.fail_all(STOPPING)
    with pytest.raises(exception.NotReady):
        w.submit(wire('c'), timeout=60.0).result(timeout=1.0)
