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

"""Raft members instrumented for the tests of sodos.kb.raft."""

import collections

from sodos.kb.raft.eager import EagerSyncObj


class Counting(EagerSyncObj):
    """A member that counts the entries it receives, by index."""

    def __init__(self, *args, **kwargs):
        self.received = collections.Counter()
        super().__init__(*args, **kwargs)

    def _SyncObj__onMessageReceived(self, node, message):
        if message.get('type') == 'append_entries':
            self.received.update(i for _, i, _ in message.get('entries', ()))
        super()._SyncObj__onMessageReceived(node, message)
