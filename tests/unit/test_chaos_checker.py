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

"""The chaos suite's history checkers, on hand-made histories."""

import pytest

from tests.chaos import checker


def op(f, value, invoke, complete, type='ok', key='k', process=0):
    return {
        'process': process,
        'f': f,
        'key': key,
        'value': value,
        'type': type,
        'invoke': invoke,
        'complete': complete,
    }


def test_sequential_history_is_linearizable():
    h = [op('write', 'a', 0, 1), op('read', 'a', 2, 3), op('write', 'b', 4, 5)]
    h.append(op('read', 'b', 6, 7))
    assert checker.linearizable(h)


def test_initial_read_sees_nothing():
    assert checker.linearizable([op('read', None, 0, 1)])
    assert not checker.linearizable([op('read', 'x', 0, 1)])


def test_stale_read_after_a_completed_write_is_a_violation():
    h = [
        op('write', 'a', 0, 1),
        op('write', 'b', 2, 3),
        op('read', 'a', 4, 5, process=1),
    ]
    assert not checker.linearizable(h)
    assert checker.check_linearizable(h)['violations'] == ['k']


def test_concurrent_writes_may_take_either_order():
    for last in ('a', 'b'):
        h = [
            op('write', 'a', 0, 10, process=0),
            op('write', 'b', 1, 9, process=1),
            op('read', last, 11, 12, process=2),
        ]
        assert checker.linearizable(h)


def test_read_concurrent_with_a_write_sees_old_or_new():
    for seen in ('a', 'b'):
        h = [
            op('write', 'a', 0, 1),
            op('write', 'b', 2, 10, process=0),
            op('read', seen, 3, 4, process=1),
        ]
        assert checker.linearizable(h)


def test_reads_may_not_flip_back():
    # Two sequential reads inside one write: new, then old, is no order.
    h = [
        op('write', 'a', 0, 1),
        op('write', 'b', 2, 10, process=0),
        op('read', 'b', 3, 4, process=1),
        op('read', 'a', 5, 6, process=1),
    ]
    assert not checker.linearizable(h)


@pytest.mark.parametrize('seen', [None, 'a'])
def test_unknown_write_may_or_may_not_happen(seen):
    h = [
        op('write', 'a', 0, 1, type='info'),
        op('read', seen, 5, 6, process=1),
    ]
    assert checker.linearizable(h)


def test_unknown_write_may_happen_late():
    h = [
        op('write', 'a', 0, 1, type='info'),
        op('read', None, 5, 6, process=1),
        op('read', 'a', 7, 8, process=1),
    ]
    assert checker.linearizable(h)


def test_failed_write_never_happens():
    h = [
        op('write', 'a', 0, 1, type='fail'),
        op('read', 'a', 5, 6, process=1),
    ]
    assert not checker.linearizable(h)


def test_keys_are_checked_apart():
    h = [
        op('write', 'a', 0, 1, key='x'),
        op('read', None, 2, 3, key='y'),
        op('read', 'zz', 2, 3, key='z'),
    ]
    assert checker.check_linearizable(h)['violations'] == ['z']


def test_search_bound_gives_no_verdict():
    h = [op('write', str(i), 0, 100, process=i) for i in range(12)]
    h.append(op('read', 'nope', 200, 201))
    with pytest.raises(checker.SearchExhausted):
        checker.linearizable(h, bound=50)
    assert checker.check_linearizable(h, bound=50)['unknown'] == ['k']


def test_acked_write_lost_unless_overwritten():
    w1 = op('write', 'a', 0, 1)
    w2 = op('write', 'b', 2, 3)
    assert checker.acked_lost([w1, w2], {'k': 'b'}) == []
    assert checker.acked_lost([w1, w2], {'k': 'a'}) == [w2]
    assert checker.acked_lost([w1, w2], {'k': None}) == [w2]
    # An unknown write may have overwritten an acknowledged one.
    w3 = op('write', 'c', 4, 5, type='info')
    assert checker.acked_lost([w1, w2, w3], {'k': 'c'}) == []


def test_value_coming_back_is_a_duplicate():
    h = [
        op('write', 'a', 0, 1),
        op('read', 'a', 2, 3),
        op('write', 'b', 4, 5),
        op('read', 'b', 6, 7),
        op('read', 'a', 8, 9),
    ]
    assert checker.duplicates(h) == [{'key': 'k', 'value': 'a', 'runs': 2}]
    assert checker.duplicates(h[:4]) == []


def test_unknown_writes_nobody_read_do_not_widen_the_search():
    h = [
        op('write', 'u%d' % i, i, i + 0.5, type='info', process=100 + i)
        for i in range(40)
    ]
    for i in range(40):
        h.append(op('write', 'w%d' % i, 100 + 2 * i, 100.5 + 2 * i))
        h.append(op('read', 'w%d' % i, 101 + 2 * i, 101.5 + 2 * i))
    assert checker.linearizable(h, bound=200)


def test_a_member_at_two_sites_runs_twice():
    servers = {
        'site-1': {'a/web-0': 'ACTIVE', 'a/web-1': 'ACTIVE'},
        'site-2': {'a/web-0': 'ACTIVE'},
        'site-3': {},
    }
    assert checker.members_running_twice(servers) == ['a/web-0']


def test_each_member_once_runs_twice_nowhere():
    servers = {
        'site-1': {'a/web-0': 'ACTIVE'},
        'site-2': {'a/web-1': 'BUILD'},
    }
    assert checker.members_running_twice(servers) == []


def test_a_copy_being_deleted_is_not_a_second_one():
    servers = {
        'site-1': {'a/web-0': 'ACTIVE'},
        'site-2': {'a/web-0': 'DELETED'},
    }
    assert checker.members_running_twice(servers) == []


def test_a_copy_in_error_still_runs():
    # A server in ERROR exists: the site still holds the member.
    servers = {'site-1': {'a/w-0': 'ACTIVE'}, 'site-2': {'a/w-0': 'ERROR'}}
    assert checker.members_running_twice(servers) == ['a/w-0']


def test_appliances_missing_members_are_named():
    servers = {
        'site-1': {'a/web-0': 'ACTIVE', 'b/web-0': 'ACTIVE'},
        'site-2': {'a/web-1': 'ACTIVE', 'b/web-1': 'BUILD'},
    }
    assert checker.members_not_running(servers, ['a', 'b', 'c'], 2) == [
        'b',
        'c',
    ]
