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

"""A planner that keeps the specs its earlier plans validated, and how
it sorted their members, plans exactly as one that starts from nothing,
whatever changed in between; it validates a spec again only when its
record changed, and sorts again only the appliances something changed
for."""

import copy
import dataclasses

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sodos.analyseplan import filters
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import sorting
from sodos.analyseplan import specs
from sodos.analyseplan import weighers
from sodos.analyseplan.view import Events
from tests.unit.analyseplan.kbviews import kb
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site
from tests.unit.analyseplan.kbviews import spec
from tests.unit.analyseplan.test_plan_properties import federations

A, B, C = 'a' * 32, 'b' * 32, 'c' * 32
WEIGHTS = [(weighers.FreeRamWeigher(), 1.0), (weighers.PackWeigher(), 0.3)]


RETRY_AFTER = 600.0


def planner(cache=None, weights=WEIGHTS):
    made = planner_mod.Planner(filters.shipped(), weights, 10.0, cache)
    made.failed_retry_after = RETRY_AFTER
    return made


def cold(view, events=None, **how):
    # A deep copy: nothing the warm planner kept can be shared with it.
    return planner().plan(copy.deepcopy(view), events, **how)


def same(one, other):
    return dataclasses.asdict(one) == dataclasses.asdict(other)


def carried_out(view, plan):
    """``view`` with ``plan``'s moves and removals done."""
    for removal in plan.removals:
        view['placements'].pop(removal.key, None)
    for move in plan.moves:
        view['placements'].update(
            placed(move.appliance_id, move.member, move.site, flavor='x')
        )


CHANGES = (
    'carry out',
    'site down',
    'site up',
    'hypothetical failure',
    'spec in place',
    'spec replaced',
    'appliance deleted',
    'appliance added',
    'failed for good',
    'awaiting image',
    'built',
    'image gone',
    'labels',
    'weights',
    'owned site',
    'overloaded',
    'consolidate',
    'time passes',
)


def stamped(view):
    """``view`` with a commit time on every appliance, as the KB keeps."""
    for n, record in enumerate(view['appliances'].values()):
        record['updated_at'] = float(n)
    return view


def replaced(view, key):
    """A copy of placement ``key``, in its place: a KB read is never
    changed in place, a changed record is a new one."""
    record = view['placements'][key] = copy.deepcopy(view['placements'][key])
    return record


def change(data, view, plan, what):
    """Make change ``what`` to ``view`` (a record changed gets a new
    commit time, as in the KB); returns how to make the next plan."""
    names = sorted(view['sites'])
    apps = sorted(view['appliances'])
    placements = sorted(view['placements'])
    if what == 'carry out':
        carried_out(view, plan)
    elif what in ('site down', 'site up'):
        name = data.draw(st.sampled_from(names))
        view['sites'][name]['status'] = 'down' if what == 'site down' else 'up'
    elif what == 'hypothetical failure':
        failed = frozenset([data.draw(st.sampled_from(names))])
        return {'events': Events(failed=failed)}
    elif what == 'overloaded':
        return {'overloaded': {data.draw(st.sampled_from(names)): 0.2}}
    elif what == 'consolidate':
        return {'consolidate': 0.1}
    elif what == 'time passes':
        # Failures at time 0 (below): kept off, or due again.
        return {'now': data.draw(st.sampled_from([100.0, 2 * RETRY_AFTER]))}
    elif what == 'owned site':
        name = data.draw(st.sampled_from(names))
        profile = view['sites'][name]['info']['profile']
        profile['owner'] = data.draw(st.sampled_from(['o1', '']))
    elif what == 'spec in place' and apps:
        record = view['appliances'][data.draw(st.sampled_from(apps))]
        record['spec']['priority'] = data.draw(st.sampled_from([10, 50, 90]))
        record['spec']['members'][0]['count'] = data.draw(st.integers(1, 4))
        record['updated_at'] += 100.0
    elif what == 'spec replaced' and apps:
        record = view['appliances'][data.draw(st.sampled_from(apps))]
        record['spec'] = dict(record['spec'], constraints={'spread': 1})
        record['updated_at'] += 100.0
    elif what == 'appliance deleted' and apps:
        del view['appliances'][data.draw(st.sampled_from(apps))]
    elif what == 'appliance added':
        view['appliances']['f' * 32] = {
            'spec': spec(count=2, spread=2),
            'updated_at': 1000.0,
        }
    elif what == 'failed for good' and placements:
        record = replaced(view, data.draw(st.sampled_from(placements)))
        record['info']['failed_sites'] = [record['site']]
        record['info']['failed_at'] = {record['site']: 0.0}
    elif what == 'awaiting image' and placements:
        record = replaced(view, data.draw(st.sampled_from(placements)))
        record['info']['awaiting_image'] = data.draw(st.booleans())
    elif what == 'built' and placements:
        key = data.draw(st.sampled_from(placements))
        where = view['placements'][key]['site']
        if where in view['monitoring']:
            servers = view['monitoring'][where]['summary']['servers']
            servers[key] = {'status': 'ACTIVE'}
    elif what == 'image gone':
        name = data.draw(st.sampled_from(names))
        view['monitoring'][name]['summary']['images'] = []
    elif what == 'labels':
        name = data.draw(st.sampled_from(names))
        profile = view['sites'][name]['info']['profile']
        profile['labels'] = {'zone': data.draw(st.sampled_from('ab'))}
    return {}


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(federations(), st.data())
def test_a_planner_that_keeps_its_specs_plans_as_one_from_nothing(view, data):
    stamped(view)
    cache = specs.SpecCache()
    # Sorted again from nothing when most appliances changed, or never.
    cache.sorter = sorting.Sorter(most=data.draw(st.sampled_from([0.5, 1.0])))
    warm = planner(cache)
    plan = warm.plan(view)
    assert same(plan, cold(view))
    # Mostly from placements made: most members kept.
    first = data.draw(st.sampled_from(['carry out'] * 3 + list(CHANGES)))
    more = data.draw(st.lists(st.sampled_from(CHANGES), max_size=6))
    for what in [first, *more]:
        how = change(data, view, plan, what)
        if what == 'weights':
            # Another configuration, the same cache.
            warm = planner(cache, [(weighers.FreeRamWeigher(), 1.0)])
            plan = warm.plan(view)
            assert same(
                plan,
                planner(weights=[(weighers.FreeRamWeigher(), 1.0)]).plan(
                    copy.deepcopy(view)
                ),
            )
            warm = planner(cache)
            continue
        plan = warm.plan(view, **how)
        assert same(plan, cold(view, **how)), what


def three_appliances():
    """Three appliances, each planned once since the commit of its spec."""
    view = stamped(
        kb(
            [site(name) for name in ('s1', 's2', 's3', 's4')],
            appliances={a: spec(count=2, spread=2) for a in (A, B, C)},
        )
    )
    warm = planner()
    carried_out(view, warm.plan(view))
    return view, warm


def test_unchanged_records_are_not_validated_again():
    view, warm = three_appliances()
    validations = warm.cache.validations
    warm.plan(view)
    # A new read of the same records: equal, nothing validated either.
    warm.plan(copy.deepcopy(view))
    assert warm.cache.validations == validations == 3


def test_a_record_committed_again_is_validated_again():
    view, warm = three_appliances()
    # The same spec, a new commit: the KB's stamp says it may differ.
    view['appliances'][A] = dict(view['appliances'][A], updated_at=50.0)
    warm.plan(view)
    assert warm.cache.validations == 4


def test_a_spec_that_differs_from_the_one_read_is_validated_again():
    view, warm = three_appliances()
    # A new read whose spec differs though the stamp does not (a record
    # restored from an older copy): compared, not trusted.
    again = copy.deepcopy(view)
    again['appliances'][A]['spec']['priority'] = 90
    plan = warm.plan(again)
    assert warm.cache.validations == 4
    assert same(plan, cold(again))


def test_records_without_a_commit_time_are_validated_every_plan():
    view, warm = three_appliances()
    for record in view['appliances'].values():
        del record['updated_at']
    warm.plan(view)
    warm.plan(view)
    assert warm.cache.validations == 3 + 3 + 3


def test_a_spec_made_invalid_is_left_alone_as_from_nothing():
    view, warm = three_appliances()
    record = view['appliances'][A]
    record['spec']['members'][0]['count'] = 'many'
    record['updated_at'] = 50.0
    plan = warm.plan(view)
    assert same(plan, cold(view))
    assert not plan.removals
    assert A not in {m.appliance_id for m in plan.moves}
    # Invalid, it is not validated again until it changes.
    warm.plan(view)
    assert warm.cache.validations == 4


def test_deleted_appliances_leave_the_cache():
    view, warm = three_appliances()
    assert len(warm.cache) == 3
    del view['appliances'][A]
    plan = warm.plan(view)
    assert same(plan, cold(view))
    assert {r.appliance_id for r in plan.removals} == {A}
    assert len(warm.cache) == 2


def test_a_read_where_nothing_changed_sorts_no_member_again():
    view, warm = three_appliances()
    warm.plan(view)
    before = warm.cache.sorter.sorted
    plan = warm.plan(copy.deepcopy(view))
    assert warm.cache.sorter.sorted == before
    assert same(plan, cold(view))


def test_a_site_down_sorts_again_only_the_appliances_placed_there():
    where = {A: ('s1', 's2'), B: ('s3', 's4'), C: ('s3', 's4')}
    placements = {}
    for appliance_id, sites in where.items():
        for n, name in enumerate(sites):
            placements.update(
                placed(appliance_id, 'web-%d' % n, name, flavor='m1.small')
            )
    view = stamped(
        kb(
            [site(name) for name in ('s1', 's2', 's3', 's4')],
            appliances={a: spec(count=2, spread=2) for a in where},
            placements=placements,
        )
    )
    warm = planner()
    assert warm.plan(view).kept == 6
    before = warm.cache.sorter.sorted
    events = Events(failed=frozenset(['s1']))
    plan = warm.plan(view, events)
    assert warm.cache.sorter.sorted - before == 1
    assert [(m.appliance_id, m.from_site) for m in plan.moves] == [(A, 's1')]
    assert same(plan, cold(view, events))
    # Back up: A alone again.
    warm.plan(view)
    assert warm.cache.sorter.sorted - before == 2
