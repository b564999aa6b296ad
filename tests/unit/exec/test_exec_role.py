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

"""Exec on the in-memory KB and the simulated site: actions, idempotence,
failures, fencing and reconcile."""

import threading
import time

import pytest

from sodos.exec import role as exec_role
from tests import kbwriter
from tests.unit.helpers import Wrapped

APP = 'a' * 32


class KB(kbwriter.KBWriter):
    """The leader's planner, with this module's defaults."""

    def __init__(self, api, backend):
        super().__init__(api, origin='here')
        self.backend = backend

    def place(self, member, site='here', image='fake-image', flavor='m1.tiny'):
        self.propose('appliance.put', {'appliance_id': APP, 'spec': {}})
        super().place(APP, member, site, image, flavor)

    def action(self, action_id, kind='server.create', site='here', **params):
        super().action(site, kind, params, action_id=action_id)

    def actions(self):
        return self.backend.read('actions')


@pytest.fixture
def kb(knowmon, api):
    return KB(api, knowmon.backend)


def settle(role, kb, action_id, timeout=10.0):
    """Run cycles until the action ended; its KB record."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        role.cycle()
        action = kb.actions()[action_id]
        if action['state'] in ('done', 'failed'):
            return action
        time.sleep(0.02)
    raise AssertionError('action %s still %s' % (action_id, action))


def create_params(member='web', image='fake-image', flavor='m1.tiny'):
    return {
        'appliance_id': APP,
        'member': member,
        'image': image,
        'flavor': flavor,
    }


def test_create_action_builds_a_tagged_server_once(exec_for, api, kb):
    role = exec_for(api)
    kb.place('web')
    kb.action('1' * 32, **create_params())
    done = settle(role, kb, '1' * 32)
    assert done['state'] == 'done'
    assert done['result']['created'] is True
    servers = role.driver.list_servers()
    assert [(s.member, s.status, s.action_id) for s in servers] == [
        ('web', 'ACTIVE', '1' * 32)
    ]
    assert servers[0].id == done['result']['server_id']
    # The same request again (another action id): nothing new is built.
    kb.action('2' * 32, **create_params())
    again = settle(role, kb, '2' * 32)
    assert again['result'] == dict(done['result'], created=False)
    assert len(role.driver.list_servers()) == 1
    for _ in range(5):
        role.cycle()
    assert (role.executor.done, role.executor.failed) == (2, 0)


def test_permanent_failure_is_recorded_with_the_sites_message(
    exec_for, api, kb
):
    role = exec_for(api)
    kb.place('web')
    kb.action('1' * 32, **create_params(image='no-such-image'))
    failed = settle(role, kb, '1' * 32)
    assert failed['state'] == 'failed'
    assert failed['result'] == {
        'error': 'Image no-such-image could not be found. (HTTP 400)'
    }
    assert role.driver.list_servers() == []


def test_no_valid_host_leaves_no_server_behind(exec_for, exec_conf, api, kb):
    exec_conf.set_override('hosts', 1, 'simulator')
    exec_conf.set_override('host_ram_mb', 1024, 'simulator')
    role = exec_for(api)
    kb.place('big')
    kb.action('1' * 32, **create_params('big', flavor='m1.large'))
    failed = settle(role, kb, '1' * 32)
    assert failed['result']['error'].startswith('No valid host was found.')
    assert role.driver.list_servers() == []


def test_bad_params_and_unknown_kinds_fail_clearly(exec_for, api, kb):
    role = exec_for(api)
    kb.action('1' * 32, member='web')
    kb.action('2' * 32, kind='teleport')
    bad = settle(role, kb, '1' * 32)
    assert bad['result']['error'].startswith(
        'invalid params for server.create'
    )
    unknown = settle(role, kb, '2' * 32)
    assert unknown['result']['error'].startswith(
        "no Exec handler for action kind 'teleport' on site here"
    )


def test_transient_errors_are_retried_then_given_up(
    exec_for, exec_conf, api, kb
):
    exec_conf.set_override('api_down', True, 'simulator')
    role = exec_for(api)
    kb.place('web')
    kb.action('1' * 32, **create_params())
    failed = settle(role, kb, '1' * 32)
    assert failed['result']['transient'] is True
    assert 'gave up after 3 attempts' in failed['result']['error']


def test_a_superseded_create_does_not_build(exec_for, api, kb):
    kb.backend.propose('site.register', {'site': 'there', 'address': 'h:9'})
    role = exec_for(api)
    kb.place('web', site='there')
    kb.action('1' * 32, **create_params())
    failed = settle(role, kb, '1' * 32)
    assert failed['result']['error'] == (
        'superseded: member %s/web is now placed at site there' % APP
    )
    assert role.driver.list_servers() == []


def test_delete_action_removes_every_server_of_the_member(exec_for, api, kb):
    role = exec_for(api)
    kb.place('web')
    kb.action('1' * 32, **create_params())
    settle(role, kb, '1' * 32)
    kb.action('2' * 32, kind='server.delete', appliance_id=APP, member='web')
    done = settle(role, kb, '2' * 32)
    assert done['state'] == 'done'
    assert len(done['result']['deleted']) == 1
    assert role.driver.list_servers() == []


class OutcomesBlocked(Wrapped):
    """Claims commit; outcomes meet a KB without quorum while ``blocked``
    is set. ``on_flush`` is called each time outcomes are submitted."""

    def __init__(self, api, on_flush=lambda: None):
        super().__init__(api)
        self.blocked = threading.Event()
        self.blocked.set()
        self.on_flush = on_flush

    def submit(self, command, timeout=None):
        if self.blocked.is_set() and command['args']['state'] != 'running':
            return {'ok': False, 'error': 'no quorum', 'timeout': True}
        return self.api.submit(command, timeout)

    def submit_many(self, wires, timeout=None):
        self.on_flush()
        return [self.submit(wire, timeout) for wire in wires]


def run_until_done(role, count=1):
    deadline = time.monotonic() + 10
    while role.executor.done < count and time.monotonic() < deadline:
        role.cycle()
        time.sleep(0.02)
    assert role.executor.done == count


def test_an_outcome_is_committed_once_the_knowmon_answers_again(
    exec_for, api, kb
):
    flaky = OutcomesBlocked(api)
    role = exec_for(flaky)
    kb.place('web')
    kb.action('1' * 32, **create_params())
    run_until_done(role)
    role.cycle()
    assert kb.actions()['1' * 32]['state'] == 'running'
    flaky.blocked.clear()
    assert settle(role, kb, '1' * 32)['state'] == 'done'
    assert len(role.driver.list_servers()) == 1


def test_new_actions_start_before_waiting_outcomes_are_committed(
    exec_for, api, kb
):
    started_at_flush = []
    flaky = OutcomesBlocked(
        api, lambda: started_at_flush.append(set(role.executor._started))
    )
    role = exec_for(flaky)
    kb.place('web')
    kb.action('1' * 32, **create_params())
    run_until_done(role)  # its outcome is not committed
    kb.place('db')
    kb.action('2' * 32, **create_params(member='db'))
    started_at_flush.clear()
    role.cycle()
    # The second action was under way before the cycle waited on the
    # first one's outcome.
    assert '2' * 32 in started_at_flush[0]
    flaky.blocked.clear()
    assert settle(role, kb, '1' * 32)['state'] == 'done'
    assert settle(role, kb, '2' * 32)['state'] == 'done'


def test_fenced_exec_does_nothing(exec_for, api, kb):
    role = exec_for(Wrapped(api, in_quorum=False))
    kb.place('web')
    kb.action('1' * 32, **create_params())
    for _ in range(3):
        assert role.cycle() == 'exec: fenced (no quorum), not acting'
    assert kb.actions()['1' * 32]['state'] == 'pending'
    assert role.driver.list_servers() == []


def test_back_in_quorum_deletes_what_was_re_placed_and_rebuilds(
    exec_for, api, kb
):
    kb.backend.propose('site.register', {'site': 'there', 'address': 'h:9'})
    cut_off = Wrapped(api)
    role = exec_for(cut_off)
    kb.place('web')
    kb.place('db')
    kb.action('1' * 32, **create_params('web'))
    kb.action('2' * 32, **create_params('db'))
    settle(role, kb, '1' * 32)
    settle(role, kb, '2' * 32)
    db = [s for s in role.driver.list_servers() if s.member == 'db'][0]
    cut_off.answers['in_quorum'] = False
    role.cycle()
    # Meanwhile the federation moves web away, and db's server is lost.
    kb.place('web', site='there')
    role.driver.delete(db.id)
    del cut_off.answers['in_quorum']
    line = role.cycle()
    assert line == (
        'exec: in quorum; reconcile (quorum was lost): '
        'delete 1 stale, create 1 missing; actions: 0 running'
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        members = sorted(
            (s.member, s.status) for s in role.driver.list_servers()
        )
        if members == [('db', 'ACTIVE')]:
            break
        time.sleep(0.02)
    assert members == [('db', 'ACTIVE')]


def test_monitoring_is_committed_on_change_only(exec_for, api, kb):
    role = exec_for(api)
    assert role.monitor_once() == {
        'ok': True,
        'committed': True,
        'reason': 'first report',
    }
    assert role.monitor_once() == {'ok': True, 'committed': False}
    kb.place('web')
    kb.action('1' * 32, **create_params())
    settle(role, kb, '1' * 32)
    assert role.monitor_once()['reason'] == 'servers changed'
    report = kb.backend.read('monitoring')['here']['summary']
    assert report['servers']['%s/web' % APP]['status'] == 'ACTIVE'
    assert report['capacity']['vcpu']['used'] == 1.0
    assert report['images'] == ['cirros', 'fake-image']


class Clock:
    """time.monotonic for the Exec role, moved by hand."""

    def __init__(self):
        self.now = time.monotonic()

    def __call__(self):
        return self.now


def test_a_slow_cycle_is_not_a_stall_but_a_frozen_process_is(
    exec_for, exec_conf, api, kb, monkeypatch
):
    clock = Clock()
    monkeypatch.setattr(exec_role.time, 'monotonic', clock)
    exec_conf.set_override('reconcile_interval', 10_000, 'exec')
    cut_off = Wrapped(api)
    role = exec_for(cut_off)
    assert 'reconcile (start)' in role.cycle()
    # A cycle that takes far longer than the site-down timeout, as one
    # waiting on a slow site API does: the process was never frozen.
    slow = exec_conf.knowmon.site_down_timeout + role.interval() + 30
    step = role.executor.step

    def slow_step(actions):
        clock.now += slow
        return step(actions)

    monkeypatch.setattr(role.executor, 'step', slow_step)
    role.cycle()
    monkeypatch.setattr(role.executor, 'step', step)
    clock.now += role.interval()
    assert 'reconcile' not in role.cycle()
    # Frozen between two cycles for as long: reconcile.
    clock.now += slow
    assert 'reconcile (stalled %.0f s)' % slow in role.cycle()
