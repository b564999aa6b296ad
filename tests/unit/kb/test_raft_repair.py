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

"""The rules of the converging log repair (sodos.kb.raft.repair)."""

from sodos.kb.raft import repair

# A follower's terms by index: 1..10 of term 1, 11..15 of term 3 (a
# deposed leader's entries that no one else has).
TERMS = {i: 1 for i in range(1, 11)} | {i: 3 for i in range(11, 16)}


def test_a_mismatch_skips_the_whole_run_of_the_deposed_term():
    assert repair.conflict_start(TERMS.get, 15, floor=5) == 11


def test_a_mismatch_never_goes_below_the_commit_index():
    assert repair.conflict_start(TERMS.get, 15, floor=13) == 13


def test_a_mismatch_at_a_committed_index_steps_back_by_one():
    assert repair.conflict_start(TERMS.get, 4, floor=9) == 4


def leader(next_index):
    obj = object.__new__(repair.RepairingSyncObj)
    obj._probing = set()
    obj._SyncObj__raftNextIndex = {'f': next_index}
    return obj


def refusal(hint, prev=None):
    message = {
        'type': 'next_node_idx',
        'next_node_idx': hint,
        'reset': True,
        'success': False,
    }
    if prev is not None:
        message[repair.PREV_KEY] = prev
    return message


def test_refusals_only_move_next_index_back():
    obj = leader(100)
    # The probe's refusal points back to 11; the refusals of batches
    # pipelined after it ("beyond my log") must not undo that.
    assert obj._bounded('f', refusal(11, prev=40))['next_node_idx'] == 11
    obj._SyncObj__raftNextIndex['f'] = 11
    assert obj._bounded('f', refusal(16, prev=99))['next_node_idx'] == 11
    assert obj._probing == {'f'}


def test_a_refusal_from_an_unpatched_member_is_bounded_too():
    obj = leader(11)
    assert obj._bounded('f', refusal(16))['next_node_idx'] == 11


def test_a_probe_below_the_followers_commit_moves_forward():
    obj = leader(3)
    # The follower compacted through 20 and has committed it all.
    assert obj._bounded('f', refusal(21, prev=2))['next_node_idx'] == 21


def test_a_success_ends_the_probing():
    obj = leader(11)
    obj._probing.add('f')
    success = {
        'type': 'next_node_idx',
        'next_node_idx': 70,
        'reset': False,
        'success': True,
    }
    assert obj._bounded('f', success) is success
    assert obj._probing == set()


def test_an_unknown_follower_passes_through():
    obj = leader(11)
    message = refusal(5, prev=4)
    assert obj._bounded('g', message) is message
