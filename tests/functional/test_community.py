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

"""Owners' sharing policies, with real site processes of three owners.

Sites of owners A, B and C, each with room for two members; C admits
only A. B's appliance wants five members: four fit on B's and A's sites
(A lends to everyone), the fifth stays unplaced, the reason naming C's
policy, rather than land on C. A's member, with A's site full, goes to
C. Once C takes its policy back, B's fifth member is placed on C.

Reclaim: B's guests fill A's site; A's project then needs the room
there. One guest is moved to C's site, built there before its old
server goes, and A's member takes its room. Where C admits only A, the
guest can go nowhere: it is told, stopped only once its notice is over,
and A's member takes its room.
"""

from sodos.analyseplan import notices
from sodos.sim import federation
from tests import kbwriter
from tests.functional import polling

OWNER_A = 'a' * 32
OWNER_B = 'b' * 32
OWNER_C = 'c' * 32
PROJECT_A = '1a' * 16
PROJECT_B = '1b' * 16
SITES = {'site-a': OWNER_A, 'site-b': OWNER_B, 'site-c': OWNER_C}

SETTINGS = dict(
    federation.FAST_SIMULATED_SETTINGS,
    analyseplan={'loop_interval': 0.5},
    knowmon=dict(
        federation.LAN_SETTINGS['knowmon'],
        # A full site is not overloaded here: nothing moves off it.
        overload_threshold=100.0,
        # On a loaded machine a late heartbeat marks a site down, and an
        # unplaced member's alert keeps the first reason it was given.
        site_down_timeout=5.0,
    ),
    # One host of 4 vCPUs, not overcommitted: two m1.medium (2 vCPUs).
    simulator=dict(
        federation.FAST_SIMULATED_SETTINGS['simulator'],
        hosts=1,
        host_vcpus=4,
        cpu_allocation_ratio=1.0,
    ),
)


def spec(name, project, count, **constraints):
    return {
        'name': name,
        'project_id': project,
        'members': [
            {
                'name': 'web',
                'image': 'fake-image',
                'flavor': 'm1.medium',
                'count': count,
            }
        ],
        'constraints': constraints,
    }


def members(kb, appliance_id):
    """Member key -> site, of the appliance's placements."""
    return {
        key: placed['site']
        for key, placed in kb.api.read('placements').items()
        if key.startswith(appliance_id + '/')
    }


def placed_count(kb, appliance_id, count):
    """The appliance's placements once there are ``count``; else None."""
    found = members(kb, appliance_id)
    return found if len(found) == count else None


def active(kb, placed):
    """Whether every member of ``placed`` runs ACTIVE where placed."""
    by_site = kbwriter.servers_by_site(kb.api.read('monitoring'))
    return all(
        by_site.get(site, {}).get(key) == 'ACTIVE'
        for key, site in placed.items()
    )


def four_on_a_and_b(kb, app_b, placed):
    """B's four members, once ``placed()`` gives them: two on A's site,
    two on B's, all ACTIVE."""
    placed_b = polling.wait_until(
        placed,
        "four of B's members placed",
        30,
        seen=lambda: members(kb, app_b),
    )
    assert sorted(placed_b.values()) == [
        'site-a',
        'site-a',
        'site-b',
        'site-b',
    ]
    polling.wait_until(
        lambda: active(kb, placed_b),
        "B's members ACTIVE",
        30,
        seen=lambda: kb.api.read('monitoring'),
    )
    return placed_b


def unplaced_alerts(kb):
    return {
        alert_id: alert['message']
        for alert_id, alert in kb.api.read('alerts').items()
        if alert.get('kind') == 'unplaced' and alert.get('state') != 'closed'
    }


def community(local_federation, transport_url):
    """Three sites up, of owners A, B and C; the owners' domains, a
    project of A and one of B. Returns the federation and a KB writer."""
    fed = local_federation(
        voter_count=3, transport_url=transport_url, settings=SETTINGS
    )
    for name, owner in SITES.items():
        site = fed.add_site(name, start=False)
        site.write_config(site_profile={'owner': owner})
        site.start()
        if name == 'site-a':
            fed.wait(lambda r: r['leader'], 30, 'a leader')
    fed.wait(
        lambda r: (
            len(r['members']) == 3
            and all(m['status'] == 'up' for m in r['members'])
            and len(r['voters']) == 3
            and all(v['connected'] for v in r['voters'])
        ),
        60,
        'three sites up and voting',
    )
    kb = kbwriter.KBWriter(fed.knowmon(fed.sites['site-a']))
    kb.wait_monitoring(lambda m: len(m) == 3, 30, 'every site reporting')
    polling.wait_until(
        lambda: (
            {
                name: ((s.get('info') or {}).get('profile') or {}).get('owner')
                for name, s in kb.api.read('sites').items()
            }
            == SITES
        ),
        "every site's owner in the KB",
        30,
    )

    # The owners' domains, a project of A and one of B.
    for owner, letter in ((OWNER_A, 'A'), (OWNER_B, 'B'), (OWNER_C, 'C')):
        kb.propose(
            'identity.domain.put',
            {'domain_id': owner, 'name': 'owner-' + letter},
        )
    kb.propose(
        'identity.project.put',
        {'project_id': PROJECT_A, 'name': 'proj-a', 'domain_id': OWNER_A},
    )
    kb.propose(
        'identity.project.put',
        {'project_id': PROJECT_B, 'name': 'proj-b', 'domain_id': OWNER_B},
    )
    return fed, kb


def c_admits_only_a(kb):
    kb.propose(
        'owner.policy',
        {'owner': OWNER_C, 'policy': {'admit_owners': [OWNER_A]}},
    )


def b_guests_on_a(kb, **policy_a):
    """C admits only A, and A lends its site to guests it may reclaim
    (``policy_a`` added to A's policy): B's appliance of four members
    fills A's and B's sites. Returns its id and its placements."""
    c_admits_only_a(kb)
    kb.propose(
        'owner.policy',
        {'owner': OWNER_A, 'policy': dict(preemptible=True, **policy_a)},
    )
    app_b = kb.appliance(spec('app-b', PROJECT_B, 4))
    placed_b = four_on_a_and_b(kb, app_b, lambda: placed_count(kb, app_b, 4))
    return app_b, placed_b


def test_an_owner_admitting_only_a_never_hosts_b(
    local_federation, transport_url
):
    _, kb = community(local_federation, transport_url)
    c_admits_only_a(kb)

    # B wants five members; B's and A's sites have room for four.
    app_b = kb.appliance(spec('app-b', PROJECT_B, 5))
    on_c = set()

    def placed_b_watched(count):
        """B's placements once at least ``count``; every one seen on C
        is kept."""
        found = members(kb, app_b)
        on_c.update(key for key, site in found.items() if site == 'site-c')
        return found if len(found) >= count else None

    placed_b = four_on_a_and_b(kb, app_b, lambda: placed_b_watched(4))
    fifth = sorted(
        {'%s/web-%d' % (app_b, n) for n in range(5)} - set(placed_b)
    )
    assert len(fifth) == 1, (fifth, placed_b)
    alerts = polling.wait_until(
        lambda: {
            i: m for i, m in unplaced_alerts(kb).items() if fifth[0] in m
        },
        "an alert that B's fifth member is unplaced",
        30,
        seen=lambda: unplaced_alerts(kb),
    )
    [message] = alerts.values()
    refusal = 'site-c: owner %s does not admit owner %s' % (OWNER_C, OWNER_B)
    assert refusal in message, message

    # A's member: A's own site is full (with B's guests), C admits A.
    app_a = kb.appliance(spec('app-a', PROJECT_A, 1))
    placed_a = polling.wait_until(
        lambda: placed_b_watched(4) and members(kb, app_a),
        "A's member placed",
        30,
    )
    assert list(placed_a.values()) == ['site-c']
    polling.wait_until(
        lambda: active(kb, placed_a),
        "A's member ACTIVE on site-c",
        30,
        seen=lambda: kb.api.read('monitoring'),
    )
    # Meanwhile B never got onto C, in the plan nor at the site.
    assert not on_c, on_c
    assert members(kb, app_b) == placed_b
    servers_c = kbwriter.servers_by_site(kb.api.read('monitoring'))['site-c']
    assert not [key for key in servers_c if key.startswith(app_b + '/')]

    # C takes its policy back: it lends to everyone, B's fifth goes there.
    kb.propose('owner.policy', {'owner': OWNER_C, 'unset': ['admit_owners']})
    placed_b = polling.wait_until(
        lambda: placed_count(kb, app_b, 5),
        "B's fifth member placed",
        30,
        seen=lambda: members(kb, app_b),
    )
    assert placed_b[fifth[0]] == 'site-c'
    polling.wait_until(
        lambda: active(kb, placed_b),
        "B's five members ACTIVE",
        30,
        seen=lambda: kb.api.read('monitoring'),
    )
    polling.wait_until(
        lambda: not [m for m in unplaced_alerts(kb).values() if fifth[0] in m],
        'the unplaced alert closed',
        30,
        seen=lambda: unplaced_alerts(kb),
    )


def actions_of(kb, key, kind, site):
    return [
        a
        for a in kb.api.read('actions').values()
        if a['kind'] == kind
        and a['site'] == site
        and '%(appliance_id)s/%(member)s' % a['params'] == key
    ]


def test_a_guest_is_moved_off_the_site_its_owner_needs(
    local_federation, transport_url
):
    _, kb = community(local_federation, transport_url)
    # C admits only A for now: B's four members fill A's and B's sites.
    app_b, placed_b = b_guests_on_a(kb)
    # C lends to everyone now; B's members stay where they run.
    kb.propose('owner.policy', {'owner': OWNER_C, 'unset': ['admit_owners']})

    # A's member may go to A's site only, which B's guests fill.
    app_a = kb.appliance(spec('app-a', PROJECT_A, 1, sites=['site-a']))
    placed_a = polling.wait_until(
        lambda: (found := members(kb, app_a)) and active(kb, found) and found,
        "A's member ACTIVE on site-a",
        60,
        seen=lambda: (members(kb, app_a), members(kb, app_b)),
    )
    assert list(placed_a.values()) == ['site-a']
    # The first of B's guests on A's site (by key) went to C's site.
    guest, stays = sorted(k for k, s in placed_b.items() if s == 'site-a')
    after = members(kb, app_b)
    assert (after[guest], after[stays]) == ('site-c', 'site-a')
    placed = kb.api.read('placements')[guest]
    assert placed['info']['reason'] == (
        'reclaim: owner %s needs room for project %s' % (OWNER_A, PROJECT_A)
    )
    # Make-before-break: its old server was deleted only once the new
    # one was built.
    [built] = actions_of(kb, guest, 'server.create', 'site-c')
    [deleted] = actions_of(kb, guest, 'server.delete', 'site-a')
    assert built['state'] == 'done'
    assert deleted['created_at'] >= built['updated_at']
    by_site = kbwriter.servers_by_site(kb.api.read('monitoring'))
    assert by_site['site-c'].get(guest) == 'ACTIVE'
    assert guest not in by_site['site-a']


NOTICE_S = 4


def test_a_guest_with_nowhere_to_go_is_told_then_stopped(
    local_federation, transport_url
):
    _, kb = community(local_federation, transport_url)
    # C admits only A, for good: none of B's members may go there.
    app_b, placed_b = b_guests_on_a(kb, preempt_notice_s=NOTICE_S)

    # A's member may go to A's site only, which B's guests fill.
    app_a = kb.appliance(spec('app-a', PROJECT_A, 1, sites=['site-a']))
    told, alerts = {}, {}

    def a_running():
        """A's placements once ACTIVE; every notice and reclaim alert
        seen on the way is kept (both go once the reclaim is over)."""
        told.update(notices.records({'owners': kb.api.read('owners')}))
        alerts.update(
            (alert_id, alert)
            for alert_id, alert in kb.api.read('alerts').items()
            if alert.get('kind') == notices.KIND
        )
        found = members(kb, app_a)
        return found if found and active(kb, found) else None

    placed_a = polling.wait_until(
        a_running,
        "A's member ACTIVE on site-a",
        90,
        seen=lambda: (members(kb, app_a), told),
    )
    assert list(placed_a.values()) == ['site-a']
    # One guest was told, with the notice A's policy gives.
    [(guest, record)] = told.items()
    assert placed_b[guest] == 'site-a'
    assert (record['owner'], record['site'], record['guest']) == (
        OWNER_A,
        'site-a',
        OWNER_B,
    )
    assert 'moved_to' not in record
    alert = alerts[notices.alert_id(guest)]
    assert guest in alert['message']
    # Stopped only once the notice was over, and nowhere else to go.
    [deleted] = actions_of(kb, guest, 'server.delete', 'site-a')
    assert deleted['created_at'] >= record['deadline']
    assert guest not in members(kb, app_b)
    by_site = kbwriter.servers_by_site(kb.api.read('monitoring'))
    assert guest not in by_site['site-a']
    # The other guest on A's site was left alone.
    [stays] = [k for k, s in placed_b.items() if s == 'site-a' and k != guest]
    assert members(kb, app_b)[stays] == 'site-a'
    assert by_site['site-a'].get(stays) == 'ACTIVE'
