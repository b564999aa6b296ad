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

"""Reclaim: an owner's own project takes back the room guests hold on
its sites; guests move elsewhere, or are told, then stopped."""

import pytest

from sodos import exception
from sodos.analyseplan import notices
from sodos.kb import state
from tests.unit.analyseplan import kbviews
from tests.unit.community.views import ORG_A
from tests.unit.community.views import ORG_B
from tests.unit.community.views import ORG_C
from tests.unit.community.views import PROJECT
from tests.unit.community.views import planner
from tests.unit.community.views import site
from tests.unit.community.views import spec
from tests.unit.community.views import view
from tests.unit.kb.test_state import cmd

OWN = 'a' * 32  # owner A's appliance
GUEST = 'b' * 32  # owner B's appliance
OTHER = 'c' * 32  # owner C's appliance
PREEMPTIBLE = {'preemptible': True, 'preempt_notice_s': 600}
NOW = 10_000.0


def small(name, owner, vcpu=2.0):
    """A site of ``owner`` with room for ``vcpu`` m1.small."""
    return site(name, owner, vcpu=vcpu, ram=2048.0 * vcpu)


def placed(appliance_id, count, site_name, start=0):
    out = {}
    for n in range(start, start + count):
        out.update(kbviews.placed(appliance_id, 'web-%d' % n, site_name))
    return out


def own_spec(**kwargs):
    """Owner A's member, which only A's site s1 may take."""
    return spec(ORG_A, name='own', sites=['s1'], **kwargs)


def reclaim_moves(plan):
    return [m for m in plan.moves if m.reason.startswith('reclaim:')]


def test_a_guest_is_moved_off_the_owners_site():
    kb = view(
        [small('s1', ORG_A), small('s2', ORG_B)],
        {GUEST: spec(ORG_B, count=2), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placed(GUEST, 2, 's1'),
    )
    plan = planner().plan(kb, now=NOW)
    [move] = plan.moves
    assert (move.key, move.from_site, move.site) == (
        GUEST + '/web-0',
        's1',
        's2',
    )
    assert move.reason == 'reclaim: owner %s needs room for project %s' % (
        ORG_A,
        PROJECT[ORG_A],
    )
    # Make-before-break: the owner's member waits for the room.
    [waiting] = plan.unplaced
    assert waiting.key == OWN + '/web-0'
    assert 'reclaiming room at s1: a guest moves to s2' in waiting.reason
    assert plan.kept == 1 and plan.removals == []
    # Recorded (its room is on its way), but no one is told.
    [claim] = plan.reclaims
    assert (claim.key, claim.moved_to, claim.stop) == (move.key, 's2', False)
    commands = notices.commands(kb, plan)
    assert [c[0] for c in commands] == ['owner.reclaim']
    assert commands[0][1]['notices'][0]['moved_to'] == 's2'


def test_the_room_of_a_guest_being_deleted_is_not_reclaimed_twice():
    # Moved to s2; its old server on s1 is being deleted: no longer
    # listed, its room still used.
    key = GUEST + '/web-0'
    placements = placed(GUEST, 1, 's1', start=1) | placed(GUEST, 1, 's2')
    kb = view(
        [
            site('s1', ORG_A, vcpu=2.0, ram=4096.0, used=(2, 4096, 40)),
            small('s2', ORG_B),
        ],
        {GUEST: spec(ORG_B, count=2), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placements,
    )
    kb['monitoring']['s1']['summary']['servers'] = {GUEST + '/web-1': 'ACTIVE'}
    kb['monitoring']['s2']['summary']['servers'] = {key: 'ACTIVE'}
    record = {'site': 's1', 'guest': ORG_B, 'deadline': NOW, 'reason': 'r'}
    kb['owners'][ORG_A]['reclaims'] = {key: dict(record, moved_to='s2')}
    plan = planner().plan(kb, now=NOW)
    assert plan.moves == [] and plan.reclaims_ended == []
    [waiting] = plan.unplaced
    assert 'waiting for the room guests leave at s1' in waiting.reason

    # Gone: the owner's member takes the room, the reclaim is over.
    kb['monitoring']['s1']['summary']['capacity']['vcpu']['used'] = 1.0
    kb['monitoring']['s1']['summary']['capacity']['ram_mb']['used'] = 2048
    plan = planner().plan(kb, now=NOW)
    assert [(m.key, m.site) for m in plan.moves] == [(OWN + '/web-0', 's1')]
    assert plan.reclaims_ended == [key]


def test_the_owner_waits_while_a_moved_guests_server_leaves():
    # The guest is placed on s2 already, its server still on s1.
    servers = {GUEST + '/web-0': 'ACTIVE', GUEST + '/web-1': 'ACTIVE'}
    placements = placed(GUEST, 1, 's1', start=1)
    placements.update(placed(GUEST, 1, 's2'))
    for found in placements.values():
        found['info'] = {'flavor': 'm1.small'}
    kb = view(
        [
            site('s1', ORG_A, vcpu=2.0, ram=4096.0, used=(2, 4096, 40)),
            small('s2', ORG_B),
        ],
        {GUEST: spec(ORG_B, count=2), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placements,
    )
    kb['monitoring']['s1']['summary']['servers'] = servers
    plan = planner().plan(kb, now=NOW)
    assert plan.moves == []
    [waiting] = plan.unplaced
    assert 'waiting for the room guests leave at s1' in waiting.reason


def test_no_reclaim_where_the_owners_site_has_room():
    kb = view(
        [small('s1', ORG_A, vcpu=3.0), small('s2', ORG_B)],
        {GUEST: spec(ORG_B, count=2), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placed(GUEST, 2, 's1'),
    )
    plan = planner().plan(kb, now=NOW)
    assert [(m.key, m.site, m.reason) for m in plan.moves] == [
        (OWN + '/web-0', 's1', 'new')
    ]
    assert plan.unplaced == [] and plan.reclaims == []


def test_guests_of_an_owner_that_does_not_preempt_stay():
    kb = view(
        [small('s1', ORG_A), small('s2', ORG_B)],
        {GUEST: spec(ORG_B, count=2), OWN: own_spec()},
        {ORG_A: {'preemptible': False}},
        placed(GUEST, 2, 's1'),
    )
    plan = planner().plan(kb, now=NOW)
    assert plan.moves == [] and plan.reclaims == []
    [unplaced] = plan.unplaced
    assert "its owner's policy keeps the guests at s1" in unplaced.reason


def test_the_most_served_owner_gives_back_first():
    # B and C each have a guest on s1; C used more than its share.
    def plan_with(usage):
        kb = view(
            [small('s1', ORG_A), small('s2', ORG_B), small('s3', ORG_C)],
            {
                GUEST: spec(ORG_B),
                OTHER: spec(ORG_C),
                OWN: own_spec(),
            },
            {ORG_A: PREEMPTIBLE},
            placed(GUEST, 1, 's1') | placed(OTHER, 1, 's1'),
        )
        for owner, mean in usage.items():
            kb['owners'].setdefault(owner, {})['usage'] = {
                'mean': mean,
                'at': 0,
            }
        return [m.key for m in reclaim_moves(planner().plan(kb, now=NOW))]

    assert plan_with({ORG_C: 50.0}) == [OTHER + '/web-0']
    assert plan_with({ORG_B: 50.0}) == [GUEST + '/web-0']


def test_ties_go_by_priority_then_member_key():
    low = 'd' * 32
    kb = view(
        [small('s1', ORG_A, vcpu=3.0), small('s2', ORG_B, vcpu=8.0)],
        {
            GUEST: spec(ORG_B, count=2, priority=50),
            low: spec(ORG_B, name='low', priority=10),
            OWN: own_spec(),
        },
        {ORG_A: PREEMPTIBLE},
        placed(GUEST, 2, 's1') | placed(low, 1, 's1'),
    )
    assert [m.key for m in reclaim_moves(planner().plan(kb, now=NOW))] == [
        low + '/web-0'
    ]
    # Equal priorities: the first member key goes.
    kb['appliances'][low]['spec']['priority'] = 50
    moved = [m.key for m in reclaim_moves(planner().plan(kb, now=NOW))]
    assert moved == [GUEST + '/web-0']


def guest_with_nowhere_to_go(records=None, spread=None):
    """B's guests fill s1; B's own site s2 is full (with one of them
    under ``spread``)."""
    constraints = {'spread': spread} if spread else {}
    placements = placed(GUEST, 2, 's1')
    s1, s2 = small('s1', ORG_A), small('s2', ORG_B, vcpu=1.0)
    if spread:
        placements = placed(GUEST, 1, 's1') | placed(GUEST, 1, 's2', 1)
        s1 = small('s1', ORG_A, vcpu=1.0)
    else:
        s2 = site('s2', ORG_B, vcpu=1.0, ram=2048.0, used=(1, 2048, 20))
    kb = view(
        [s1, s2],
        {GUEST: spec(ORG_B, count=2, **constraints), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placements,
    )
    for key, found in (records or {}).items():
        owner = kb['owners'].setdefault(ORG_A, {})
        owner.setdefault('reclaims', {})[key] = found
    return kb


def test_a_guest_nowhere_else_is_told_first():
    plan = planner().plan(guest_with_nowhere_to_go(), now=NOW)
    assert plan.moves == [] and plan.removals == []
    [claim] = plan.reclaims
    assert claim.key == GUEST + '/web-0'
    assert (claim.site, claim.host, claim.guest) == ('s1', ORG_A, ORG_B)
    assert claim.deadline == NOW + 600 and not claim.stop
    [waiting] = plan.unplaced
    assert 'a guest stops at 1970-01-01 02:56:40 UTC' in waiting.reason


def test_the_notice_and_its_alert_are_committed():
    kb = guest_with_nowhere_to_go()
    plan = planner().plan(kb, now=NOW)
    commands = notices.commands(kb, plan)
    assert [c[0] for c in commands] == ['owner.reclaim', 'alert.raise']
    record, alert = commands[0][1], commands[1][1]
    assert record['notices'][0]['deadline'] == NOW + 600
    assert alert['kind'] == 'reclaim'
    assert alert['message'].startswith(
        'owner %s: member %s/web-0 at site s1 is stopped at' % (ORG_B, GUEST)
    )
    # The KB keeps the deadline first told.
    data = state.KnowledgeState()
    data.data['owners'] = {}
    later = dict(record['notices'][0], deadline=NOW + 1)
    for args in (record, {'notices': [later]}):
        result = data.apply(cmd('owner.reclaim', args, ts=NOW, term=1))
        assert result['ok'], result
    found = data.data['owners'][ORG_A]['reclaims'][GUEST + '/web-0']
    assert found['deadline'] == NOW + 600 and found['noticed_at'] == NOW


def test_nothing_is_stopped_before_the_deadline():
    key = GUEST + '/web-0'
    record = {
        'site': 's1',
        'guest': ORG_B,
        'deadline': NOW + 600,
        'reason': 'r',
    }
    kb = guest_with_nowhere_to_go({key: record})
    plan = planner().plan(kb, now=NOW + 599)
    assert plan.removals == []
    [claim] = plan.reclaims
    assert not claim.stop and claim.deadline == NOW + 600
    # The KB has the notice already: only its alert is raised.
    assert [c[0] for c in notices.commands(kb, plan)] == ['alert.raise']

    plan = planner().plan(kb, now=NOW + 600)
    [removal] = plan.removals
    assert (removal.key, removal.site) == (key, 's1')
    assert removal.reason.startswith('reclaim: owner %s' % ORG_A)
    [claim] = plan.reclaims
    assert claim.stop
    [(kind, alert)] = notices.commands(kb, plan)
    assert alert['severity'] == 'critical'
    assert 'stopped at site s1' in alert['message']


def test_a_stopped_guest_stays_off_while_the_owner_waits():
    key = GUEST + '/web-0'
    record = {'site': 's1', 'guest': ORG_B, 'deadline': NOW, 'reason': 'r'}
    kb = guest_with_nowhere_to_go({key: record})
    del kb['placements'][key]
    # Its server is still being deleted on s1.
    kb['monitoring']['s1']['summary']['servers'] = {key: 'ACTIVE'}
    kb['monitoring']['s1']['summary']['capacity']['vcpu']['used'] = 1.0
    plan = planner().plan(kb, now=NOW)
    assert plan.moves == []
    reasons = {u.key: u.reason for u in plan.unplaced}
    assert 'waiting for the room guests leave at s1' in reasons[OWN + '/web-0']
    assert 's1: ' in reasons[key]
    assert plan.reclaims_ended == []

    # Deleted: the owner's member takes the room, the reclaim is over.
    kb['monitoring']['s1']['summary']['servers'] = {}
    kb['monitoring']['s1']['summary']['capacity']['vcpu']['used'] = 0.0
    plan = planner().plan(kb, now=NOW)
    assert [(m.key, m.site) for m in plan.moves] == [(OWN + '/web-0', 's1')]
    assert plan.reclaims_ended == [key]
    kb['alerts'] = {notices.alert_id(key): {'kind': 'reclaim'}}
    assert notices.commands(kb, plan) == [
        (
            'owner.reclaim',
            {'notices': [], 'ended': [{'owner': ORG_A, 'member': key}]},
        ),
        (
            'alert.close',
            {'alert_id': notices.alert_id(key), 'reason': 'reclaim over'},
        ),
    ]


def test_a_reclaim_breaking_a_spread_is_refused():
    plan = planner().plan(guest_with_nowhere_to_go(spread=2), now=NOW)
    assert plan.moves == [] and plan.reclaims == []
    [unplaced] = plan.unplaced
    assert unplaced.key == OWN + '/web-0'
    assert (
        'reclaiming a guest at s1 refused: stopping it would break the '
        'spread of its appliance (2 sites'
    ) in unplaced.reason


def test_a_what_if_moves_but_never_tells_nor_stops():
    plan = planner().plan(guest_with_nowhere_to_go())
    assert plan.moves == [] and plan.reclaims == [] and plan.removals == []
    assert 'no other site can take' in plan.unplaced[0].reason


def test_a_bad_notice_is_refused_naming_the_field():
    notice = {
        'owner': ORG_A,
        'member': GUEST + '/web-0',
        'site': 's1',
        'guest': ORG_B,
        'deadline': -1,
        'reason': 'r',
    }
    with pytest.raises(exception.InvalidCommand) as caught:
        cmd('owner.reclaim', {'notices': [notice]}, ts=NOW, term=1)
    assert 'owner.reclaim.notices[0].deadline' in str(caught.value)


def test_no_guest_is_disturbed_when_all_of_them_would_not_do():
    # One guest (1 vCPU) on s1 of 3 vCPUs; A's member needs 4.
    kb = view(
        [small('s1', ORG_A, vcpu=3.0), small('s2', ORG_B)],
        {GUEST: spec(ORG_B), OWN: own_spec(flavor='m1.large')},
        {ORG_A: PREEMPTIBLE},
        placed(GUEST, 1, 's1'),
    )
    plan = planner().plan(kb, now=NOW)
    assert plan.moves == [] and plan.reclaims == []
    [unplaced] = plan.unplaced
    assert 'the guests at s1 hold too little room for m1.large' in (
        unplaced.reason
    )


def test_without_guests_the_reason_is_left_as_it_was():
    other = 'e' * 32
    kb = view(
        [small('s1', ORG_A), small('s2', ORG_B)],
        {other: spec(ORG_A, name='other', count=2), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placed(other, 2, 's1'),
    )
    plan = planner().plan(kb, now=NOW)
    [unplaced] = plan.unplaced
    assert unplaced.reason.startswith('new; no site can take it')
    assert plan.moves == [] and plan.reclaims == []


def test_a_guest_under_notice_is_moved_once_room_appears_and_told():
    key = GUEST + '/web-0'
    record = {
        'site': 's1',
        'guest': ORG_B,
        'deadline': NOW + 600,
        'reason': 'r',
    }
    kb = view(
        [small('s1', ORG_A), small('s2', ORG_B)],
        {GUEST: spec(ORG_B, count=2), OWN: own_spec()},
        {ORG_A: PREEMPTIBLE},
        placed(GUEST, 2, 's1'),
    )
    kb['owners'][ORG_A]['reclaims'] = {key: record}
    kb['alerts'] = {notices.alert_id(key): {'kind': 'reclaim', 'message': 'm'}}
    plan = planner().plan(kb, now=NOW)
    assert [(m.key, m.site) for m in reclaim_moves(plan)] == [(key, 's2')]
    [(kind, alert)] = notices.commands(kb, plan)
    assert (kind, alert['severity']) == ('alert.raise', 'info')
    assert (
        'member %s moved from site s1 to s2, not stopped' % key
        in (alert['message'])
    )
