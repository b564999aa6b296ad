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

"""KnowMon's copy of the KB's history into the site's database, fed by a
real KnowledgeState driven through KB commands."""

import uuid

from sodos.db import api
from sodos.db import migration
from sodos.kb import commands
from sodos.kb import state
from sodos.kb.sections import alerts
from sodos.knowmon import history


class KB:
    def __init__(self):
        self.state = state.KnowledgeState()
        self.ts = 1000.0
        self.propose(
            'federation.init', federation_id=uuid.uuid4().hex, voter_count=1
        )
        self.propose('site.register', site='a', address='127.0.0.1:9001')

    def propose(self, command, term=1, **args):
        self.ts += 1.0
        cmd = commands.make(command, args, origin='a', term=term, now=self.ts)
        result = self.state.apply(cmd.to_wire())
        assert result['ok'], result
        return result

    def read(self, section):
        return self.state.read(section)


def _ended_action(kb, state_='done'):
    action_id = uuid.uuid4().hex
    kb.propose(
        'action.put',
        action_id=action_id,
        site='a',
        kind='server.create',
        params={'member': 'web-0'},
    )
    kb.propose('action.update', action_id=action_id, state='running')
    kb.propose(
        'action.update',
        action_id=action_id,
        state=state_,
        result={'server_id': 'srv-1'},
    )
    return action_id


def test_ended_actions_closed_alerts_and_samples_are_copied(db):
    kb = KB()
    done = _ended_action(kb)
    failed = _ended_action(kb, 'failed')
    pending = uuid.uuid4().hex
    kb.propose(
        'action.put',
        action_id=pending,
        site='a',
        kind='server.delete',
        params={},
    )
    alert_id = uuid.uuid4().hex
    kb.propose(
        'alert.raise',
        alert_id=alert_id,
        site='a',
        kind='overload',
        severity='warning',
        message='site a at 95% RAM',
    )
    kb.propose('alert.close', alert_id=alert_id, reason='back under')
    kb.propose(
        'monitoring.report',
        site='a',
        summary={'collected_at': 1234.5, 'api': {'ok': True}},
    )

    recorder = history.HistoryRecorder(db)
    counts = recorder.record(kb.read)

    assert counts == {'actions': 2, 'alerts': 1, 'samples': 1, 'usage': 0}
    rows = {row['action_id']: row for row in api.recent_actions(db)}
    assert set(rows) == {done, failed}
    assert rows[failed]['state'] == 'failed'
    assert rows[done]['result'] == {'server_id': 'srv-1'}
    [alert] = api.alerts(db)
    assert alert['alert_id'] == alert_id
    assert alert['reason'] == 'back under'
    assert alert['message'] == 'site a at 95% RAM'
    [sample] = api.monitoring_history(db, 'a')
    assert sample['summary']['api'] == {'ok': True}


def test_a_second_run_writes_only_what_is_new(db):
    kb = KB()
    _ended_action(kb)
    recorder = history.HistoryRecorder(db)
    recorder.record(kb.read)

    assert recorder.record(kb.read) == {
        'actions': 0,
        'alerts': 0,
        'samples': 0,
        'usage': 0,
    }
    _ended_action(kb)
    assert recorder.record(kb.read)['actions'] == 1
    assert len(api.recent_actions(db)) == 2


def test_a_restarted_recorder_copies_again_without_duplicates(db):
    kb = KB()
    _ended_action(kb)
    kb.propose('monitoring.report', site='a', summary={'collected_at': 50.0})
    history.HistoryRecorder(db).record(kb.read)

    history.HistoryRecorder(db).record(kb.read)

    assert len(api.recent_actions(db)) == 1
    assert len(api.monitoring_history(db, 'a')) == 1


def test_a_database_without_schema_is_reported_and_retried(empty_db):
    kb = KB()
    _ended_action(kb)
    recorder = history.HistoryRecorder(empty_db)

    assert recorder.record(kb.read) == {}

    migration.upgrade(empty_db)
    assert recorder.record(kb.read)['actions'] == 1


def test_pruning_drops_only_actions_ended_before_the_cutoff():
    kb = KB()
    old = _ended_action(kb)
    kb.ts += 100.0
    recent = _ended_action(kb)
    running = uuid.uuid4().hex
    kb.propose(
        'action.put',
        action_id=running,
        site='a',
        kind='server.create',
        params={},
    )
    actions = kb.read('actions')

    assert history.prune_before(actions, now=kb.ts, retention=1000.0) is None
    cutoff = history.prune_before(actions, now=kb.ts, retention=50.0)
    assert cutoff is not None
    result = kb.propose('action.prune', ended_before=cutoff)

    assert result['pruned'] == 1
    assert set(kb.read('actions')) == {recent, running}
    assert old not in kb.read('actions')


def test_closed_alerts_kept_in_the_kb_are_bounded():
    kb = KB()
    for n in range(alerts.CLOSED_ALERTS_KEPT + 5):
        alert_id = '%032x' % n
        kb.propose(
            'alert.raise',
            alert_id=alert_id,
            site='a',
            kind='x',
            severity='info',
            message='m',
        )
        kb.propose('alert.close', alert_id=alert_id)

    kept = kb.read('closed_alerts')
    assert len(kept) == alerts.CLOSED_ALERTS_KEPT
    assert '%032x' % 0 not in kept
    assert '%032x' % (alerts.CLOSED_ALERTS_KEPT + 4) in kept
