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

import datetime
import threading

import pytest

from sodos.db import api
from sodos.db import migration
from tests.unit.db import conftest

T0 = 1_700_000_000.25


def action(n, site='site-a', **extra):
    values = dict(
        action_id='%032x' % n,
        site=site,
        kind='server.create',
        params={'appliance': 'web', 'member': 'web-%d' % n},
        state='done',
        created_at=T0 + n,
        ended_at=T0 + n + 0.5,
        result={'server_id': 'srv-%d' % n},
    )
    values.update(extra)
    return values


def alert(n, site='site-a', **extra):
    values = dict(
        alert_id='%032x' % n,
        site=site,
        kind='site_down',
        severity='critical',
        message='site %s is unreachable' % site,
        raised_at=T0 + n,
        closed_at=T0 + n + 10,
        reason='site is back',
    )
    values.update(extra)
    return values


def test_the_default_database_is_sqlite_under_state_path(db, tmp_path):
    assert api.safe_url(db) == 'sqlite:///%s/sodos.sqlite' % tmp_path
    assert (tmp_path / 'sodos.sqlite').exists()


def test_an_action_round_trips_with_its_json_and_times(db):
    api.record_action(db, **action(1))
    [got] = api.recent_actions(db)
    assert got == action(1)


def test_recording_an_action_again_replaces_it(db):
    api.record_action(db, **action(1, state='failed', result=None))
    api.record_action(db, **action(1))  # a retry after a lost answer
    assert api.recent_actions(db) == [action(1)]


def test_recent_actions_newest_first_with_limit_and_site(db):
    for n in range(5):
        api.record_action(db, **action(n, site='site-%s' % 'ab'[n % 2]))
    assert [a['action_id'][-1] for a in api.recent_actions(db)] == list(
        '43210'
    )
    assert len(api.recent_actions(db, limit=2)) == 2
    on_b = api.recent_actions(db, site='site-b')
    assert [a['action_id'][-1] for a in on_b] == ['3', '1']


def test_an_action_may_not_have_ended_or_have_a_result(db):
    api.record_action(db, **action(1, ended_at=None, result=None))
    [got] = api.recent_actions(db)
    assert got['ended_at'] is None and got['result'] is None


def test_alerts_filtered_by_site_time_and_severity(db):
    api.record_alert(db, **alert(1))
    api.record_alert(db, **alert(2, site='site-b', severity='warning'))
    api.record_alert(db, **alert(3, reason=None))
    assert [a['alert_id'][-1] for a in api.alerts(db)] == ['3', '2', '1']
    assert api.alerts(db, site='site-b') == [
        alert(2, site='site-b', severity='warning')
    ]
    assert [a['alert_id'][-1] for a in api.alerts(db, since=T0 + 12)] == [
        '3',
        '2',
    ]
    assert [
        a['alert_id'][-1] for a in api.alerts(db, severity='critical')
    ] == ['3', '1']
    assert len(api.alerts(db, limit=1)) == 1


def test_monitoring_history_of_a_site_since_oldest_first(db):
    for n in range(4):
        for site in ('site-a', 'site-b'):
            assert api.record_monitoring(
                db,
                site=site,
                collected_at=T0 + n * 0.1,
                summary={'vcpus_used': n, 'site': site},
            )
    history = api.monitoring_history(db, 'site-a', since=T0 + 0.15)
    assert [h['summary']['vcpus_used'] for h in history] == [2, 3]
    assert {h['site'] for h in history} == {'site-a'}
    # Sub-second times survive the round trip.
    assert history[0]['collected_at'] == pytest.approx(T0 + 0.2, abs=1e-6)
    assert len(api.monitoring_history(db, 'site-a')) == 4
    latest = api.monitoring_history(db, 'site-a', limit=2)
    assert [h['summary']['vcpus_used'] for h in latest] == [2, 3]
    assert api.monitoring_history(db, 'nowhere') == []


def test_the_same_sample_is_kept_once(db):
    sample = dict(site='site-a', collected_at=T0, summary={'x': 1})
    assert api.record_monitoring(db, **sample) is True
    assert api.record_monitoring(db, **sample) is False
    assert len(api.monitoring_history(db, 'site-a')) == 1


def test_times_may_be_datetimes_in_any_zone(db):
    paris = datetime.timezone(datetime.timedelta(hours=1))
    when = datetime.datetime.fromtimestamp(T0, paris)
    api.record_monitoring(db, site='site-a', collected_at=when, summary={})
    [got] = api.monitoring_history(db, 'site-a', since=when)
    assert got['collected_at'] == T0


def test_each_config_has_its_own_database(tmp_path):
    confs = []
    for name in ('one', 'two'):
        (tmp_path / name).mkdir()
        confs.append(conftest.make_conf(tmp_path / name))
    try:
        for conf in confs:
            migration.upgrade(conf)
        api.record_action(confs[0], **action(1))
        assert len(api.recent_actions(confs[0])) == 1
        assert api.recent_actions(confs[1]) == []
    finally:
        for conf in confs:
            api.dispose(conf)


def test_writers_in_threads_do_not_lose_rows(db):
    def write(first):
        for n in range(first, first + 10):
            api.record_action(db, **action(n))

    threads = [
        threading.Thread(target=write, args=(i * 10,)) for i in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(api.recent_actions(db, limit=1000)) == 40


def test_an_unusable_database_is_one_clear_error(tmp_path):
    conf = conftest.make_conf(
        tmp_path, 'sqlite:///%s/missing/dir/x.sqlite' % tmp_path
    )
    conf.set_override('max_retries', 0, 'database')
    with pytest.raises(api.DatabaseError) as caught:
        api.recent_actions(conf)
    with pytest.raises(api.DatabaseError):
        api.record_monitoring(conf, site='a', collected_at=T0, summary={})
    assert str(caught.value) == (
        'database sqlite:///%s/missing/dir/x.sqlite: unable to open '
        'database file' % tmp_path
    )
    api.dispose(conf)


def test_the_password_is_never_shown(tmp_path):
    conf = conftest.make_conf(
        tmp_path, 'mysql+pymysql://sodos:s3cret@db.example.org/sodos'
    )
    assert api.safe_url(conf) == (
        'mysql+pymysql://sodos:***@db.example.org/sodos'
    )
    conf.set_override('connection', 'not a url s3cret', 'database')
    assert 's3cret' not in api.safe_url(conf)
