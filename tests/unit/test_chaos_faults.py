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

"""The chaos suite's faults, apart from the nemesis that schedules
them: which kinds are possible, a bit flip, a ring partition."""

import random

import pytest

from tests.chaos import bit_flip
from tests.chaos import fault_kinds
from tests.chaos import injector


def test_skew_needs_libfaketime():
    assert fault_kinds.SKEW not in fault_kinds.check_kinds(None, True)
    assert fault_kinds.check_kinds(None, True, skew=True) == fault_kinds.KINDS
    with pytest.raises(ValueError, match='skew are not possible'):
        fault_kinds.check_kinds(('skew',), True)


def test_a_bit_flip_changes_one_bit_of_one_raft_file(tmp_path):
    (tmp_path / 'journal').write_bytes(bytes(100))
    (tmp_path / 'journal.state').write_bytes(bytes(10))
    where = bit_flip.flip_bit(random.Random(3), str(tmp_path))
    data = (tmp_path / where['file']).read_bytes()
    assert data[where['offset']] == 1 << where['bit']
    assert sum(bin(b).count('1') for b in data) == 1
    other = ({'journal', 'journal.state'} - {where['file']}).pop()
    assert not any((tmp_path / other).read_bytes())


def test_a_ring_leaves_each_site_its_neighbours():
    ring = ['a', 'b', 'c', 'd', 'e']
    cut = injector.ring_cuts(ring)
    assert sorted(cut) == [
        ('a', 'c'),
        ('a', 'd'),
        ('b', 'd'),
        ('b', 'e'),
        ('c', 'e'),
    ]
