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


"""Several commands submitted together: order, results, timeouts."""

import concurrent.futures
import time

from sodos import exception
from sodos.kb import backend as kb_backend


def test_results_come_in_order_with_refusals_in_place(knowmon):
    backend = knowmon.backend
    results = backend.propose_many(
        [
            ('site.register', {'site': 'one', 'address': 'h:2'}),
            ('site.status', {'site': 'nowhere', 'status': 'down'}),
            ('site.register', {'site': 'two', 'address': 'h:3'}),
        ]
    )
    assert [r['ok'] for r in results] == [True, False, True]
    assert 'nowhere' in results[1]['error']
    assert {'one', 'two'} <= set(backend.read('sites'))


def done_with(exc):
    future = concurrent.futures.Future()
    future.set_exception(exc)
    return future


def test_a_command_not_committed_in_time_says_so():
    timed_out = kb_backend.outcome(
        done_with(exception.CommitTimeout('not committed in 10 s'))
    )
    assert timed_out == {
        'ok': False,
        'error': 'not committed in 10 s',
        'timeout': True,
    }
    refused = kb_backend.outcome(done_with(exception.SodosError('reason 3')))
    assert refused == {'ok': False, 'error': 'reason 3'}


def test_a_stopping_member_fails_its_writes_at_once(make_member):
    member = make_member()
    assert member.propose('policy.set', {'key': 'paused', 'value': True})['ok']
    member.abandon_writes()
    started = time.monotonic()
    results = member.propose_many(
        [('policy.set', {'key': 'paused', 'value': False})]
    )
    assert time.monotonic() - started < 2  # not the 10 s commit timeout
    assert results[0]['ok'] is False
    assert 'the site is stopping' in results[0]['error']
    assert member.read('policy')['paused'] is True


def test_stopping_the_roles_abandons_the_writes_first(knowmon, conf):
    from sodos import roleset

    calls = []
    knowmon.backend.abandon_writes = lambda: calls.append('abandon')
    original_stop = knowmon.stop

    def stop():
        calls.append('stop knowmon')
        original_stop()

    knowmon.stop = stop
    role_set = roleset.RoleSet(conf, ['knowmon'])
    role_set.roles = [knowmon]  # as start() leaves them
    role_set.stop()
    assert calls == ['abandon', 'stop knowmon']
