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

"""A site where a member's server failed for good is tried again after
[analyseplan]failed_site_retry_after seconds (the plan's ``now`` is
the clock: no test waits)."""

import pytest
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.analyseplan import failures
from sodos.analyseplan import filters
from sodos.analyseplan import orders
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import weighers
from sodos.analyseplan import whatif
from sodos.analyseplan.view import utc
from tests.unit.analyseplan.kbviews import kb
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site
from tests.unit.analyseplan.kbviews import spec

A = 'a' * 32
KEY = A + '/web-0'
RETRY_AFTER = 600.0
FAILED_AT = 1_000_000.0
NO_VALID_HOST = 'No valid host was found. There are not enough hosts.'


def planner(retry_after=RETRY_AFTER):
    made = planner_mod.Planner(
        filters.shipped(), [(weighers.FreeRamWeigher(), 1.0)]
    )
    made.failed_retry_after = retry_after
    return made


def create(n, site_name, state, at, transient=False):
    """A create action of web-0 at ``site_name``, asked at ``at``, and
    (unless pending) ended 10 s later."""
    result = {}
    if state == 'failed':
        result = {'error': NO_VALID_HOST}
        if transient:
            result['transient'] = True
    action_id = str(n) * 32
    return action_id, {
        'action_id': action_id,
        'site': site_name,
        'kind': 'server.create',
        'state': state,
        'params': {'appliance_id': A, 'member': 'web-0'},
        'result': result,
        'created_at': at,
        'updated_at': at if state == 'pending' else at + 10.0,
    }


def only_s1(*actions, **info):
    """web-0, allowed at s1 only, placed there; s2 has room too."""
    return kb(
        [site('s1'), site('s2')],
        appliances={A: spec(sites=['s1'])},
        placements=placed(A, 'web-0', 's1', **info),
        actions=dict(actions),
    )


def test_a_site_that_refused_is_tried_again_once_its_time_off_is_over():
    failed_at = FAILED_AT + 10.0
    view = only_s1(create(1, 's1', 'failed', FAILED_AT))
    waiting = planner().plan(view, now=failed_at + RETRY_AFTER - 1)
    assert waiting.moves == []
    (unplaced,) = waiting.unplaced
    assert unplaced.key == KEY
    assert unplaced.reason == (
        'its server failed at s1; no site can take it: s1: the server '
        'failed there; tried there again after %s; s2: not allowed by '
        'the constraints (sites, regions, labels)'
        % utc(failed_at + RETRY_AFTER)
    )
    retried = planner().plan(view, now=failed_at + RETRY_AFTER)
    assert retried.unplaced == []
    (move,) = retried.moves
    assert (move.site, move.from_site) == ('s1', 's1')
    assert move.reason == 'its server failed at s1 at %s: tried again' % (
        utc(failed_at)
    )
    assert (move.failed_sites, move.failed_at) == ([], {})
    # Placed again, it is built anew: a new create at s1.
    (apply,) = orders.from_plan(retried, view)
    (action,) = apply['actions']
    assert (action['kind'], action['site']) == ('server.create', 's1')


def test_a_new_try_under_way_keeps_the_member_where_it_is():
    view = only_s1(
        create(1, 's1', 'failed', FAILED_AT),
        create(2, 's1', 'pending', FAILED_AT + RETRY_AFTER + 10),
    )
    plan = planner().plan(view, now=FAILED_AT + RETRY_AFTER + 20)
    assert (plan.moves, plan.unplaced, plan.kept) == ([], [], 1)


def test_failing_again_starts_the_time_off_again():
    second = FAILED_AT + RETRY_AFTER + 10
    view = only_s1(
        create(1, 's1', 'failed', FAILED_AT),
        create(2, 's1', 'failed', second),
    )
    # The first failure's time off is long over; the second's is not.
    (unplaced,) = planner().plan(view, now=second + RETRY_AFTER).unplaced
    assert 'tried there again after %s' % utc(second + 10 + RETRY_AFTER) in (
        unplaced.reason
    )
    (move,) = planner().plan(view, now=second + 10 + RETRY_AFTER).moves
    assert move.site == 's1'


def test_a_transient_failure_is_still_retried_in_place():
    view = only_s1(create(1, 's1', 'failed', FAILED_AT, transient=True))
    for now in (FAILED_AT + 20, FAILED_AT + 10 * RETRY_AFTER):
        plan = planner().plan(view, now=now)
        assert (plan.moves, plan.unplaced, plan.kept) == ([], [], 1)


def test_an_old_failure_at_another_site_is_still_ignored():
    view = kb(
        [site('s1'), site('s2')],
        appliances={A: spec()},
        placements=placed(A, 'web-0', 's2'),
        actions=dict([create(1, 's1', 'failed', FAILED_AT)]),
    )
    now = FAILED_AT + 20
    assert (
        failures.failed_sites(view['actions'], view['placements'], now)[0]
        == {}
    )
    plan = planner().plan(view, now=now)
    assert (plan.moves, plan.unplaced, plan.kept) == ([], [], 1)


def test_the_time_of_a_failure_moves_on_with_the_member():
    view = kb(
        [site('s1'), site('s2'), site('s3')],
        appliances={A: spec(sites=['s1', 's2'])},
        placements=placed(A, 'web-0', 's1'),
        actions=dict([create(1, 's1', 'failed', FAILED_AT)]),
    )
    (move,) = planner().plan(view, now=FAILED_AT + 20).moves
    assert (move.site, move.failed_sites) == ('s2', ['s1'])
    assert move.failed_at == {'s1': FAILED_AT + 10}
    (apply,) = orders.from_plan(planner().plan(view, now=FAILED_AT + 20), view)
    (placement,) = apply['placements']
    assert placement['info']['failed_at'] == {'s1': FAILED_AT + 10}
    # Moved on to s2, which goes down: s1 waits out its time off, even
    # once the failed action is pruned.
    moved = kb(
        [site('s1'), site('s2', status='down'), site('s3')],
        appliances={A: spec(sites=['s1', 's2'])},
        placements={KEY: dict(placement, placed_at=FAILED_AT + 20)},
    )
    retry_at = FAILED_AT + 10 + RETRY_AFTER
    (unplaced,) = planner().plan(moved, now=retry_at - 1).unplaced
    assert 'tried there again after %s' % utc(retry_at) in unplaced.reason
    (back,) = planner().plan(moved, now=retry_at).moves
    assert (back.site, back.failed_sites) == ('s1', [])


def test_a_placement_without_failure_times_counts_from_when_it_was_placed():
    # As an AnalysePlan without failed_at wrote it: the failure was
    # known when the member was placed at s2.
    view = kb(
        [site('s1'), site('s2', status='down')],
        appliances={A: spec()},
        placements={
            KEY: dict(
                placed(A, 'web-0', 's2', failed_sites=['s1'])[KEY],
                placed_at=FAILED_AT,
            )
        },
    )
    assert planner().plan(view, now=FAILED_AT + RETRY_AFTER - 1).unplaced
    (move,) = planner().plan(view, now=FAILED_AT + RETRY_AFTER).moves
    assert move.site == 's1'


@pytest.mark.parametrize('retry_after, now', [(0.0, 1e12), (600.0, None)])
def test_zero_or_no_clock_keeps_a_member_off_for_good(retry_after, now):
    view = only_s1(create(1, 's1', 'failed', FAILED_AT))
    plan = planner(retry_after).plan(view, now=now)
    assert plan.moves == []
    (unplaced,) = plan.unplaced
    assert 's1: the server failed there before;' in unplaced.reason


def make_conf(tmp_path, text):
    path = tmp_path / 'sodos.conf'
    path.write_text(text)
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf(['--config-file', str(path)], project='sodos')
    return conf


def test_the_option_reaches_the_planner(tmp_path):
    conf = make_conf(tmp_path, '')
    assert planner_mod.from_conf(conf).failed_retry_after == 600.0
    conf = make_conf(tmp_path, '[analyseplan]\nfailed_site_retry_after = 0\n')
    assert planner_mod.from_conf(conf).failed_retry_after == 0.0


def test_a_negative_time_off_is_refused_naming_the_option(tmp_path):
    conf = make_conf(tmp_path, '[analyseplan]\nfailed_site_retry_after = -5\n')
    with pytest.raises(
        cfg.ConfigFileValueError, match='failed_site_retry_after'
    ):
        planner_mod.from_conf(conf)


def test_a_what_if_sends_a_member_back_where_its_time_off_is_over():
    # web-0 left s1 when its server failed there; what if s2 fails?
    record = placed(
        A, 'web-0', 's2', failed_sites=['s1'], failed_at={'s1': FAILED_AT}
    )[KEY]
    view = kb(
        [site('s1'), site('s2')],
        appliances={A: spec()},
        placements={KEY: dict(record, placed_at=FAILED_AT + 20)},
    )
    retry_at = FAILED_AT + RETRY_AFTER
    report = whatif.ask(planner(), view, ['s2'], [], retry_at)
    moved = [(m['member'], m['from_site'], m['site']) for m in report['moves']]
    assert (moved, report['unplaced']) == ([('web-0', 's2', 's1')], [])
    # As the planner would: still in its time off, s1 does not take it.
    report = whatif.ask(planner(), view, ['s2'], [], retry_at - 1)
    (unplaced,) = report['unplaced']
    assert 'tried there again after %s' % utc(retry_at) in unplaced['reason']
