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

import threading

import pytest

from sodos.kb.raft import store


def test_concurrent_saves_all_land(tmp_path):
    record = store.MembershipFile(str(tmp_path))
    errors = []

    def save(i):
        try:
            for j in range(50):
                record.save(**{'k%d' % i: j})
        except Exception as exc:  # the failure this test is about
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert record.load() == {'k0': 49, 'k1': 49, 'k2': 49, 'k3': 49}


def test_unreadable_record_says_what_to_do(tmp_path):
    (tmp_path / store.FILENAME).write_text('{not json')
    with pytest.raises(ValueError, match='restore it from a backup'):
        store.MembershipFile(str(tmp_path)).load()
