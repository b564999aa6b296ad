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

"""The roles' decision cycles on the in-memory KB, and the role set."""

import logging
import time

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos import exception
from sodos import roles
from sodos import roleset
from sodos.analyseplan import role as analyseplan_role
from sodos.exec import role as exec_role
from sodos.knowmon import role as knowmon_role
from tests.unit.helpers import Wrapped

# -- KnowMon ----------------------------------------------------------------


def test_knowmon_marks_a_silent_site_down_once(knowmon, conf):
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    conf.set_override('site_down_timeout', 1.0, 'knowmon')
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 4.2}
    line = knowmon.cycle()
    assert line == (
        'knowmon: leader (term 1), 1 sites up, 1 down, '
        'marked far down (not heard of for 4.2 s); '
        'raised: site far is down: not heard of for 4.2 s'
    )
    assert knowmon.backend.read('sites')['far']['status'] == 'down'
    [alert] = knowmon.backend.read('alerts').values()
    assert (alert['kind'], alert['site']) == ('site_down', 'far')
    applied = knowmon.backend.status().last_applied
    for _ in range(3):
        assert knowmon.cycle() == (
            'knowmon: leader (term 1), 1 sites up, 1 down, no change'
        )
    # Nothing was written to the log while nothing changed.
    assert knowmon.backend.status().last_applied == applied


def test_knowmon_marks_a_site_heard_again_up(knowmon, conf):
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    conf.set_override('site_down_timeout', 1.0, 'knowmon')
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 9.0}
    knowmon.cycle()
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 0.3}
    line = knowmon.cycle()
    assert 'marked far up (heard of again); alert ' in line
    assert line.endswith('closed: the site is no longer down')
    assert knowmon.backend.read('sites')['far']['status'] == 'up'
    assert knowmon.backend.read('alerts') == {}
    [closed] = knowmon.backend.read('closed_alerts').values()
    assert (closed['kind'], closed['site']) == ('site_down', 'far')


def test_knowmon_says_a_site_is_back_when_it_registers_again(knowmon, conf):
    # A restarted site registers itself up before the leader's liveness
    # table would mark it: the leader's log must still say it is back.
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    conf.set_override('site_down_timeout', 1.0, 'knowmon')
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 9.0}
    assert 'marked far down' in knowmon.cycle()
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 0.2}
    line = knowmon.cycle()
    assert 'far is up again (joined); alert ' in line
    assert line.endswith('closed: the site is no longer down')
    assert knowmon.cycle().endswith('no change')


def test_knowmon_uses_the_reloaded_timeout(knowmon, conf):
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 4.0}
    conf.set_override('site_down_timeout', 5.0, 'knowmon')
    assert knowmon.cycle().endswith('no change')
    conf.set_override('site_down_timeout', 3.0, 'knowmon')
    assert 'marked far down' in knowmon.cycle()


def test_knowmon_follower_says_who_leads(knowmon):
    status = knowmon.backend.status()
    status.is_leader, status.role, status.term = False, 'readonly', 4
    status.leader_site, status.has_quorum = 'there', False
    knowmon.backend.status = lambda: status
    assert knowmon.cycle() == (
        'knowmon: readonly, leader there (term 4), NO QUORUM'
    )


def test_knowmon_reports_a_refused_transition(knowmon, conf):
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 99.0}

    def refuse(batch, timeout=None):
        return [{'ok': False, 'error': 'stale term 1'} for _ in batch]

    knowmon.backend.submit_many = refuse
    assert knowmon.cycle().endswith('refused to mark far down: stale term 1')
    assert knowmon.backend.read('sites')['far']['status'] == 'up'


def test_knowmon_marks_a_regional_outage_in_one_batch(knowmon):
    names = ['far-%d' % n for n in range(5)]
    for n, name in enumerate(names):
        knowmon.backend.propose(
            'site.register', {'site': name, 'address': 'h:%d' % (n + 2)}
        )
    ages = dict.fromkeys(names, 99.0)
    knowmon.backend.liveness = lambda: dict(ages, here=0.0)
    batches = []
    submit_many = knowmon.backend.submit_many

    def recorded(batch, timeout=None):
        batches.append([(c.type, c.args['site']) for c in batch])
        return submit_many(batch, timeout)

    knowmon.backend.submit_many = recorded
    line = knowmon.cycle()
    assert batches[0] == [('site.status', name) for name in names]
    sites = knowmon.backend.read('sites')
    assert [sites[name]['status'] for name in names] == ['down'] * 5
    assert line.count('marked far-') == 5


def test_knowmon_looks_for_actions_to_prune_once_a_minute(
    knowmon, monkeypatch
):
    backend = knowmon.backend
    action_id = 'a' * 32
    backend.propose(
        'action.put',
        {
            'action_id': action_id,
            'site': 'here',
            'kind': 'server.create',
            'params': {},
        },
    )
    backend.propose(
        'action.update',
        {'action_id': action_id, 'state': 'done', 'result': {}},
    )
    looks = []
    prune_before = knowmon_role.history.prune_before

    def counted(actions, now, retention):
        looks.append(now)
        # As if an hour and more had passed since the action ended.
        return prune_before(actions, now + retention + 1, retention)

    monkeypatch.setattr(knowmon_role.history, 'prune_before', counted)
    assert 'pruned 1 ended actions' in knowmon.cycle()
    assert backend.read('actions') == {}
    knowmon.cycle()
    assert len(looks) == 1  # not again within the minute
    knowmon._prune_looked_at -= knowmon_role.PRUNE_EVERY
    knowmon.cycle()
    assert len(looks) == 2


def test_knowmon_says_which_transition_timed_out(knowmon):
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 99.0}
    knowmon.backend.submit_many = lambda batch, timeout=None: [
        {'ok': False, 'error': 'not committed in 10 s', 'timeout': True}
        for _ in batch
    ]
    assert knowmon.cycle().endswith(
        'failed to mark far down: not committed in 10 s'
    )


# -- Exec -------------------------------------------------------------------


def test_exec_is_fenced_without_quorum(conf, api):
    role = exec_role.ExecRole(conf, Wrapped(api, in_quorum=False))
    assert role.cycle() == 'exec: fenced (no quorum), not acting'


def test_exec_is_fenced_when_knowmon_does_not_answer(conf, api):
    lost = exception.NotReady('KnowMon of site here did not answer')
    role = exec_role.ExecRole(conf, Wrapped(api, in_quorum=lost))
    assert role.cycle() == (
        'exec: fenced (KnowMon of site here did not answer), not acting'
    )


# -- AnalysePlan ------------------------------------------------------------


def test_analyseplan_active_beside_the_leader_and_paused(conf, api, knowmon):
    role = analyseplan_role.AnalysePlanRole(conf, api)
    assert role.cycle() == (
        'analyseplan: active (leader, term 1): 0 appliance(s), 0 kept'
    )
    knowmon.backend.propose('policy.set', {'key': 'paused', 'value': True})
    assert role.cycle() == (
        'analyseplan: active (leader, term 1): paused by policy, not planning'
    )


def test_analyseplan_stands_by_elsewhere(conf, api):
    status = dict(api.status(), is_leader=False, leader_site='there', term=7)
    role = analyseplan_role.AnalysePlanRole(conf, Wrapped(api, status=status))
    assert role.cycle() == 'analyseplan: standby, leader is there (term 7)'


# -- the loop ---------------------------------------------------------------


def test_every_cycle_logs_exactly_one_line(caplog):
    outcomes = iter(['same', 'same', exception.NotReady('KB away'), 'x'])

    def cycle():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    loop = roles.Loop('test', cycle, lambda: 1.0)
    with caplog.at_level(logging.DEBUG, logger='sodos.test'):
        for _ in range(4):
            loop.run_once()
    records = [
        (r.levelname, r.getMessage())
        for r in caplog.records
        if r.name == 'sodos.test'
    ]
    assert records == [
        ('INFO', 'same'),
        ('DEBUG', 'same'),  # an unchanged decision, repeated quietly
        ('WARNING', 'test: cycle skipped: KB away'),
        ('INFO', 'x'),
    ]
    assert loop.cycles == 4


def test_a_bug_in_a_cycle_is_one_error_with_its_traceback(caplog):
    def cycle():
        raise KeyError('site')

    loop = roles.Loop('test', cycle, lambda: 1.0)
    with caplog.at_level(logging.INFO, logger='sodos.test'):
        assert loop.run_once() == "test: cycle failed: 'site'"
    (record,) = [r for r in caplog.records if r.name == 'sodos.test']
    assert record.levelname == 'ERROR'
    assert record.exc_info is not None


def test_a_bad_reloaded_interval_keeps_the_last_good_one(tmp_path, api):
    path = tmp_path / 'sodos.conf'
    path.write_text('[exec]\nloop_interval = 0.5\n')
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf(['--config-file', str(path)], project='sodos')
    role = exec_role.ExecRole(conf, api)
    assert role.interval() == 0.5
    path.write_text('[exec]\nloop_interval = soon\n')
    conf.mutate_config_files()
    assert role.interval() == 0.5
    path.write_text('[exec]\nloop_interval = 0.25\n')
    conf.mutate_config_files()
    assert role.interval() == 0.25


# -- the role set -----------------------------------------------------------


def test_unknown_role_names_the_option(conf):
    with pytest.raises(exception.ConfigError) as error:
        roleset.RoleSet(conf, ['knowmon', 'bogus'])
    assert str(error.value) == (
        "[DEFAULT]roles (or --roles): unknown role 'bogus' "
        '(known: analyseplan, api, exec, knowmon)'
    )


def test_no_role_is_an_error(conf):
    with pytest.raises(exception.ConfigError, match=r'\[DEFAULT\]roles'):
        roleset.RoleSet(conf, [])


def test_knowmon_starts_first_and_serves_the_others_in_process(conf):
    conf.set_override('loop_interval', 30.0, 'exec')
    conf.set_override('loop_interval', 30.0, 'analyseplan')
    role_set = roleset.RoleSet(conf, ['analyseplan', 'exec', 'knowmon'])
    role_set.start()
    try:
        assert role_set.names == ['knowmon', 'exec', 'analyseplan']
        knowmon, exec_, plan = role_set.roles
        assert isinstance(knowmon, knowmon_role.KnowMonRole)
        # Direct calls, not a message bus.
        assert exec_.knowmon is knowmon.api
        assert plan.knowmon is knowmon.api
        assert knowmon.backend.status().ready
    finally:
        role_set.stop()
    assert role_set.roles == []
    # Stopping KnowMon stops its KB member, so that it can restart.
    assert knowmon.backend.status().role == 'stopped'


def test_roles_beside_the_kb_member_wake_for_what_concerns_them(conf):
    conf.set_override('loop_interval', 300.0, 'exec')
    conf.set_override('loop_interval', 300.0, 'analyseplan')
    role_set = roleset.RoleSet(conf, ['knowmon', 'exec', 'analyseplan'])
    role_set.start()
    try:
        knowmon, exec_, plan = role_set.roles

        def cycles_after(type_, args):
            before = (exec_.loop.cycles, plan.loop.cycles)
            knowmon.backend.propose(type_, args, check=False)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                now = (exec_.loop.cycles, plan.loop.cycles)
                if now != before:
                    time.sleep(0.3)  # a second wake would show by now
                    break
                time.sleep(0.02)
            after = (exec_.loop.cycles, plan.loop.cycles)
            return after[0] - before[0], after[1] - before[1]

        # Both loops ran their first cycle at start; a 300 s interval
        # means any further cycle comes from a wake.
        time.sleep(0.5)
        # A site marked down wakes AnalysePlan, not Exec.
        knowmon.backend.propose(
            'site.register', {'site': 'there', 'address': 'h:2'}
        )
        time.sleep(0.5)
        exec_runs, plan_runs = cycles_after(
            'site.status', {'site': 'there', 'status': 'down', 'reason': 't'}
        )
        assert (exec_runs, plan_runs > 0) == (0, True)
        # An alert of its own kind (it raised it) wakes neither.
        alert = {
            'alert_id': 'a' * 32,
            'site': 'there',
            'kind': 'unplaced',
            'severity': 'warning',
            'message': 'm',
        }
        assert cycles_after('alert.raise', alert) == (0, 0)
        assert 'a' * 32 in knowmon.backend.read('alerts')
    finally:
        role_set.stop()


def test_exec_wakes_only_for_actions_of_its_own_site(conf):
    role = exec_role.ExecRole.__new__(exec_role.ExecRole)
    role.conf = conf
    action = {'action_id': 'a' * 32, 'kind': 'server.create', 'params': {}}
    mine = {
        'type': 'plan.apply',
        'args': {'actions': [dict(action, site='here')]},
    }
    other = {
        'type': 'plan.apply',
        'args': {'actions': [dict(action, site='x')]},
    }
    assert role.wakes_for(mine)
    assert not role.wakes_for(other)
    assert not role.wakes_for({'type': 'site.status', 'args': {}})


def test_analyseplan_wakes_for_overloads_not_its_own_alerts(conf):
    plan = analyseplan_role.AnalysePlanRole(conf, None)
    assert plan.wakes_for({'type': 'appliance.put'})
    assert plan.wakes_for(
        {'type': 'alert.raise', 'args': {'kind': 'overload'}}
    )
    assert not plan.wakes_for(
        {'type': 'alert.raise', 'args': {'kind': 'unplaced'}}
    )
    assert not plan.wakes_for({'type': 'action.update'})


def test_a_failed_start_stops_what_had_started(conf, monkeypatch):
    stopped = []
    monkeypatch.setattr(
        exec_role.ExecRole,
        'start',
        lambda self: (_ for _ in ()).throw(exception.ConfigError('no')),
    )
    monkeypatch.setattr(
        knowmon_role.KnowMonRole,
        'stop',
        lambda self: stopped.append(self.name),
    )
    role_set = roleset.RoleSet(conf, ['knowmon', 'exec'])
    with pytest.raises(exception.ConfigError):
        role_set.start()
    assert stopped == ['knowmon']
    assert role_set.roles == []
