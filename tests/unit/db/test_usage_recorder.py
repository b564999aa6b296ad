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

"""KnowMon's accounting, written to and read from a SQLite history
store, on a clock of the test's."""

import pytest

from sodos.db import api
from sodos.domain import accounting
from sodos.knowmon import accounting as sampler
from tests.unit.analyseplan import kbviews
from tests.unit.community.views import ORG_A
from tests.unit.community.views import PROJECT
from tests.unit.community.views import site
from tests.unit.community.views import spec
from tests.unit.community.views import view

H0 = 1000 * accounting.HOUR
A = 'a' * 32


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def kb():
    return view(
        [site('s1', ORG_A, servers={A + '/web-0': {'status': 'ACTIVE'}})],
        {A: spec(ORG_A)},
        placements=kbviews.placed(A, 'web-0', 's1', flavor='m1.large'),
    )


def test_each_look_adds_what_ran_since_the_last(db, kb):
    db.set_override('history_interval', 600.0, 'knowmon')
    clock = Clock(H0 + 1800)
    recorder = sampler.UsageRecorder(db, clock)
    assert recorder.record(kb.get) == 0
    clock.now += 600
    assert recorder.record(kb.get) == 1
    clock.now += 1800  # across the hour: two rows
    assert recorder.record(kb.get) == 2

    rows = api.usage(db)
    # 600 s then 1200 s in the first hour, 600 s in the next; 4 vCPUs.
    assert [(r['period_start'], r['vcpu_hours']) for r in rows] == [
        (H0, pytest.approx(2.0)),
        (H0 + 3600, pytest.approx(4.0 * 600 / 3600)),
    ]
    assert rows[0]['owner'] == ORG_A
    assert rows[0]['project'] == PROJECT[ORG_A]
    assert rows[0]['ram_gb_hours'] == pytest.approx(4.0)
    assert rows[0]['member_hours'] == pytest.approx(0.5)
    assert rows[1]['updated_at'] == H0 + 4200
    assert api.usage(db, start=H0 + 3600) == rows[1:]
    assert api.usage(db, end=H0 + 3600) == rows[:1]
    assert api.usage(db, owner='orgz') == []


def test_a_failed_write_is_counted_at_the_next_look(empty_db, kb):
    empty_db.set_override('history_interval', 600.0, 'knowmon')
    clock = Clock(H0)
    recorder = sampler.UsageRecorder(empty_db, clock)
    recorder.record(kb.get)
    clock.now += 600
    with pytest.raises(api.DatabaseError):
        recorder.record(kb.get)  # no schema yet
    from sodos.db import migration

    migration.upgrade(empty_db)
    clock.now += 600
    recorder.record(kb.get)
    [row] = api.usage(empty_db)
    assert row['member_hours'] == pytest.approx(1200 / 3600)
