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

"""The planner's short cuts answer what the long way answers: the
shipped filters tested in one loop admit the sites their ``admits``
admit, a kept member is kept exactly when nothing says it must move,
and the cycle collector is paused only while a plan is made."""

import gc
from collections import Counter

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sodos.analyseplan import admitting
from sodos.analyseplan import failures
from sodos.analyseplan import filters
from sodos.analyseplan import keeping
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import sorting
from sodos.analyseplan import specs
from sodos.analyseplan import weighers
from sodos.analyseplan.view import Events
from sodos.analyseplan.view import SiteTable
from sodos.domain import appliance
from tests.unit.analyseplan.kbviews import kb
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site
from tests.unit.analyseplan.kbviews import spec
from tests.unit.analyseplan.test_plan_properties import federations

DYNAMIC = [f for f in filters.shipped() if not f.static]


def _members(view):
    out = []
    for appliance_id, record in sorted(view['appliances'].items()):
        valid = appliance.validate(record['spec'])
        out.extend(
            (valid, inst) for inst in appliance.instances(appliance_id, valid)
        )
    return out


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(federations(), st.data())
def test_one_loop_admits_what_each_filter_admits(view, data):
    table = SiteTable(view, Events())
    n = len(table.names)
    sites = st.integers(0, n - 1)
    for i in range(n):
        # Some room taken already, up to more than there is.
        scale = data.draw(st.sampled_from([0.0, 0.5, 0.9, 1.2]))
        table.used[i] = [t * scale for t in table.total[i]]
    admission = admitting.Admission(DYNAMIC)
    assert admission.spelled_out
    for valid, inst in _members(view):
        ctx = filters.Context(
            inst.appliance_id,
            valid['constraints'],
            Counter(data.draw(st.dictionaries(sites, st.integers(0, 2)))),
            excluded=frozenset(data.draw(st.sets(sites))),
        )
        ranked = [(0.0, i) for i in data.draw(st.permutations(range(n)))]
        mask = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
        expected = next(
            (
                i
                for _, i in ranked
                if mask[i]
                and all(f.admits(table, i, inst, ctx) for f in DYNAMIC)
            ),
            None,
        )
        assert admission.first(table, ranked, mask, inst, ctx) == expected


class _NotSiteZero(filters.CapacityFilter):
    """A plugin's capacity filter that also refuses the first site."""

    def admits(self, table, i, inst, ctx):
        return i != 0 and super().admits(table, i, inst, ctx)


def test_a_filter_of_another_kind_is_asked_itself():
    view = kb([site('s1'), site('s2')], appliances={'a' * 32: spec()})
    table = SiteTable(view, Events())
    admission = admitting.Admission([_NotSiteZero(), filters.SpreadFilter()])
    assert not admission.spelled_out
    ((valid, inst),) = _members(view)
    ctx = filters.Context(inst.appliance_id, valid['constraints'], Counter())
    ranked = [(0.0, 0), (0.0, 1)]
    assert admission.first(table, ranked, [True, True], inst, ctx) == 1


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(federations(), st.data())
def test_members_are_kept_exactly_when_nothing_says_they_move(view, data):
    names = sorted(view['sites']) + ['gone']
    failed = {}
    for _, inst in _members(view):
        where = data.draw(st.sampled_from([None, *names]))
        if where is None:
            continue
        info = {'flavor': inst.flavor}
        if data.draw(st.booleans()):
            info['awaiting_image'] = True
        if data.draw(st.integers(0, 4)) == 0:
            info['failed_sites'] = [data.draw(st.sampled_from(names))]
            failed[inst.key] = set(info['failed_sites'])
        view['placements'].update(
            placed(inst.appliance_id, inst.name, where, **info)
        )
    table = SiteTable(view, Events())
    validated = specs.SpecCache().read(view['appliances'])
    order = sorted(validated)
    out = sorting.Sorter().sort(
        table,
        view['placements'],
        failed,
        failures.NO_RETRIES,
        validated,
        order,
        {},
        None,
    )
    kept = {inst.key for m in out.kept_at.values() for inst in m}
    for appliance_id in order:
        ctx = filters.Context(
            appliance_id, validated[appliance_id].constraints, Counter()
        )
        for inst in validated[appliance_id].members:
            record = view['placements'].get(inst.key)
            where = record['site'] if record else None
            why = keeping.must_move(table, ctx, inst, where, failed)
            if why is None and where is not None:
                why = keeping.image_unreachable(table, inst, record, where)
            if why is None:
                assert inst.key in kept
            else:
                assert (inst, where, why) in out.todo


class _Watching(filters.Filter):
    """Notes whether the cycle collector runs while it is asked."""

    name = 'watching'
    static = True

    def __init__(self):
        self.seen = []

    def mask(self, table, inst, ctx):
        self.seen.append(gc.isenabled())
        return None


def _plan_watched():
    watching = _Watching()
    planner = planner_mod.Planner(
        [*filters.shipped(), watching], [(weighers.FreeRamWeigher(), 1.0)]
    )
    view = kb([site('s1'), site('s2')], appliances={'a' * 32: spec()})
    assert planner.plan(view).moves
    return watching.seen


def test_the_cycle_collector_is_paused_while_planning_and_then_resumed():
    assert gc.isenabled()
    assert _plan_watched() == [False]
    assert gc.isenabled()


def test_a_collector_paused_before_the_plan_stays_paused():
    gc.disable()
    try:
        assert _plan_watched() == [False]
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_resumed_when_a_plan_fails():
    planner = planner_mod.Planner(filters.shipped(), [])
    with pytest.raises(KeyError):
        planner.plan({'sites': {'s1': {}}})  # no status: not a KB read
    assert gc.isenabled()
