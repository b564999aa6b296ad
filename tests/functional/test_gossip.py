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


"""Gossip failure detection between real site processes on loopback.

The heartbeat timeout is set far beyond the test's length, so a site
marked down here was marked by the gossip, which the leader's log says.
"""

import time

from tests.functional import polling

GOSSIP = {
    'knowmon': {
        'failure_detector': 'gossip',
        'site_down_timeout': 600.0,
        'gossip_probe_interval': 0.3,
        'gossip_probe_timeout': 0.1,
    }
}
# Seconds of watching a quiet federation for a false alarm.
IDLE = 6.0


def statuses(report):
    return {m['site']: m['status'] for m in report['members']}


def formed(sites, voters):
    """Whether a report shows ``sites`` sites all up and ``voters`` voters
    connected (the last voter's promotion comes after the sites are
    up)."""

    def check(report):
        return (
            len(report['members']) == sites
            and set(statuses(report).values()) == {'up'}
            and report['has_quorum']
            and sum(v['connected'] for v in report['voters']) == voters
        )

    return check


five_sites_three_voters = formed(5, 3)


def test_killed_site_is_marked_down_by_the_gossip_then_up_again(
    local_federation,
):
    fed = local_federation(voter_count=3, settings=GOSSIP)
    fed.add_site()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for _ in range(4):
        fed.add_site()
    report = fed.wait(five_sites_three_voters, 120, 'five sites, three voters')
    leader = fed.sites[report['leader_site']]
    # A quiet federation raises no false alarm.
    quiet_until = time.monotonic() + IDLE
    while time.monotonic() < quiet_until:
        assert set(statuses(fed.report()).values()) == {'up'}
    # Not a voter, nor one being promoted: with two voters, killing one
    # would take the quorum (and the marking down) with it.
    voter_sites = {v['site'] for v in report['voters']}
    victim = next(
        m['site']
        for m in report['members']
        if m['role'] == 'readonly' and m['site'] not in voter_sites
    )
    fed.sites[victim].kill()
    report = fed.wait(
        lambda r: statuses(r)[victim] == 'down', 45, '%s down' % victim
    )
    assert {
        name for name, status in statuses(report).items() if status != 'up'
    } == {victim}
    # The leader logs its cycle once the mark is committed: after it.
    polling.wait_until(
        lambda: (
            'marked %s down (confirmed dead by the gossip)' % victim
            in leader.log()
        ),
        "the leader's log says why %s is down" % victim,
        10,
    )
    # Restarted, it registers itself up before its gossip (at a new
    # incarnation) reaches the leader: its old death must not count again.
    fed.sites[victim].start()
    fed.wait(
        lambda r: set(statuses(r).values()) == {'up'}, 45, '%s up' % victim
    )
    quiet_until = time.monotonic() + IDLE
    while time.monotonic() < quiet_until:
        assert set(statuses(fed.report()).values()) == {'up'}
    assert leader.log().count('down (confirmed dead by the gossip)') == 1


# Raft's own election waits at least 40 s after the leader's last
# heartbeat; a voter told by the gossip stands after half that (and up to
# a quarter more): a new leader within 35 s was elected on its word.
SLOW_ELECTION = {
    'raft': {
        'election_timeout_min': 40.0,
        'election_timeout_max': 45.0,
        'connection_timeout': 45.0,
    }
}


def test_voters_stand_for_election_once_the_gossip_confirms_the_leader_dead(
    local_federation,
):
    knowmon = dict(GOSSIP['knowmon'], gossip_leader_election=True)
    fed = local_federation(
        voter_count=3, settings=dict(SLOW_ELECTION, knowmon=knowmon)
    )
    fed.add_site()
    fed.wait(lambda r: r['leader'], 90, 'a leader')
    for _ in range(4):
        fed.add_site()
    report = fed.wait(five_sites_three_voters, 120, 'five sites, three voters')
    old = report['leader_site']
    survivors = [v['site'] for v in report['voters'] if v['site'] != old]
    via = fed.sites[next(s for s in fed.sites if s != old)]
    # Frozen, not killed: its ports still take connections, so only the
    # gossip's word can elect before the timeout (a killed leader's port
    # refuses them, which the voters act on by themselves:
    # test_raft_vigil.py).
    fed.sites[old].freeze()
    try:
        report = fed.wait(
            lambda r: r['leader_site'] in survivors and r['has_quorum'],
            35,
            'a new leader among %s' % ', '.join(survivors),
            via=via,
        )
    finally:
        fed.sites[old].kill()
    said = [
        site
        for site in survivors
        if 'is confirmed dead: standing for election' in fed.sites[site].log()
    ]
    assert said, 'no surviving voter stood on the gossip word'
    assert not any(
        'refuses connections' in fed.sites[site].log() for site in survivors
    )
