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

import logging

import pytest

from sodos import exception
from sodos import roles
from sodos.analyseplan import role as analyseplan_role
from sodos.exec import role as exec_role
from sodos.kb import commands


class FakeStatus:
    """What a KnowMon API says about quorum, for the fencing test."""

    def __init__(self, api, in_quorum):
        self.api = api
        self._in_quorum = in_quorum

    def __getattr__(self, name):
        return getattr(self.api, name)

    def in_quorum(self):
        return self._in_quorum


def test_knowmon_marks_a_silent_site_down_once(knowmon, conf):
    knowmon.backend.propose('site.register', {'site': 'far', 'address': 'h:2'})
    conf.set_override('site_down_timeout', 1.0, 'knowmon')
    knowmon.backend.liveness = lambda: {'here': 0.0, 'far': 4.2}
    line = knowmon.cycle()
    assert 'marked far down (not heard of for 4.2 s)' in line
    assert knowmon.backend.read('sites')['far']['status'] == 'down'
    applied = knowmon.backend.status().last_applied
    assert knowmon.cycle().endswith('1 sites up, 1 down; no change')
    assert knowmon.backend.status().last_applied == applied


def test_exec_is_fenced_without_quorum(conf, api):
    role = exec_role.ExecRole(conf, FakeStatus(api, in_quorum=False))
    assert role.cycle() == 'exec: fenced (no quorum), not acting'


def test_exec_counts_its_own_pending_actions(conf, api, knowmon):
    role = exec_role.ExecRole(conf, api)
    assert role.cycle() == 'exec: in quorum, no action pending for here'
    knowmon.backend.propose(
        'site.register', {'site': 'other', 'address': 'h:3'}
    )
    for action_id, site in (('1' * 32, 'here'), ('2' * 32, 'other')):
        knowmon.backend.submit(
            commands.make(
                'action.put',
                {
                    'action_id': action_id,
                    'site': site,
                    'kind': 'create_server',
                    'params': {},
                },
                'here',
                term=1,
            )
        )
    assert '1 action(s) pending for here (create_server)' in role.cycle()


def test_analyseplan_active_beside_the_leader_and_paused(conf, api, knowmon):
    role = analyseplan_role.AnalysePlanRole(conf, api)
    assert role.cycle() == (
        'analyseplan: active (leader, term 1): 0 appliance(s), nothing to plan'
    )
    knowmon.backend.propose('policy.set', {'key': 'paused', 'value': True})
    assert 'paused by policy' in role.cycle()


def test_analyseplan_stands_by_elsewhere(conf, api):
    class Follower(FakeStatus):
        def status(self):
            return dict(
                self.api.status(), is_leader=False, leader_site='there', term=7
            )

    role = analyseplan_role.AnalysePlanRole(conf, Follower(api, True))
    assert role.cycle() == 'analyseplan: standby, leader is there (term 7)'


def test_unknown_role_is_named(conf):
    with pytest.raises(exception.ConfigError, match="unknown role 'bogus'"):
        roles.start_roles(conf, ['knowmon', 'bogus'])


def test_loop_logs_a_repeated_line_at_debug(caplog):
    lines = iter(['a', 'a', 'b'])
    loop = roles.Loop('test', lambda: next(lines), lambda: 1.0)
    with caplog.at_level(logging.DEBUG, logger='sodos.test'):
        for _ in range(3):
            loop.run_once()
    levels = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert levels == [('INFO', 'a'), ('DEBUG', 'a'), ('INFO', 'b')]


def test_loop_survives_a_failing_cycle(caplog):
    def cycle():
        raise exception.SodosError('KB not ready')

    loop = roles.Loop('test', cycle, lambda: 1.0)
    assert loop.run_once() == 'test: cycle skipped: KB not ready'
