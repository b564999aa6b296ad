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

"""Voters spread over regions, with real site processes on loopback.

Sites of one region join first, so that join order alone would leave
that region with a majority of the voters; a region's outage is the
SIGKILL of every one of its sites.
"""

import time

from sodos.kb import commands


def regional_site(fed, name, region):
    site = fed.add_site(name, start=False)
    site.write_config(site_profile={'region': region})
    site.start()
    return site


def voters(report):
    return sorted(m['site'] for m in report['members'] if m['role'] == 'voter')


def settled(count, voter_count):
    """``count`` sites up, ``voter_count`` voters, all connected and
    recorded in the KB."""

    def check(report):
        return (
            len(report['members']) == count
            and all(m['status'] == 'up' for m in report['members'])
            and len(report['voters']) == voter_count
            and all(v['connected'] for v in report['voters'])
            and len(voters(report)) == voter_count
        )

    return check


def wait_for_log(fed, text, timeout=30):
    """Until a site's log has ``text``: the leader logs a change once it
    is recorded, which the report may show a moment before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(text in site.log() for site in fed.sites.values()):
            return
        time.sleep(0.2)
    raise AssertionError('no site logged %r' % text)


def test_voters_spread_over_regions_and_survive_a_region_outage(
    local_federation, transport_url
):
    fed = local_federation(
        voter_count=3,
        transport_url=transport_url,
        settings={'raft': {'voter_replace_timeout': 3.0}},
    )
    regional_site(fed, 'eu-1', 'eu')
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    regional_site(fed, 'eu-2', 'eu')
    fed.wait(settled(2, 2), 60, 'eu-1 and eu-2 voting')
    regional_site(fed, 'us-1', 'us')
    report = fed.wait(settled(3, 3), 60, 'three voters')
    # Every site votes, and two of the three are in eu: the report says
    # what an outage of eu would do.
    domains = report['failure_domains']
    assert domains['voter_regions'] == {'eu': ['eu-1', 'eu-2'], 'us': ['us-1']}
    assert domains['majority_region'] == 'eu'
    assert domains['warning'] == (
        '3 voters but only 2 region(s): an outage of region eu takes the '
        'quorum with it'
    )

    # A site of a third region joins: it is swapped in for a voter of eu
    # (added first, then the other removed), never the leader.
    regional_site(fed, 'ap-1', 'ap')
    report = fed.wait(
        lambda r: (
            settled(4, 3)(r)
            and r['failure_domains']['majority_region'] is None
        ),
        60,
        'the voters spread over eu, us and ap',
    )
    domains = report['failure_domains']
    assert sorted(domains['voter_regions']) == ['ap', 'eu', 'us']
    assert domains['warning'] is None
    leader = report['leader_site']
    assert leader in voters(report)
    wait_for_log(fed, 'ap-1 promoted: region ap holds no voter')
    wait_for_log(fed, 'demoted: 4 voters of 3 wanted; region eu holds 2')

    # The outage of eu: every site there is killed, a voter among them
    # (the leader, when eu-1 still leads).
    for name in ('eu-1', 'eu-2'):
        fed.sites[name].kill()
    survivor = fed.sites['us-1']
    report = fed.wait(
        lambda r: (
            r['leader_site'] in ('us-1', 'ap-1')
            and r['has_quorum']
            and {m['site']: m['status'] for m in r['members']}
            == {'eu-1': 'down', 'eu-2': 'down', 'us-1': 'up', 'ap-1': 'up'}
        ),
        60,
        'a leader outside eu, and eu marked down',
        via=survivor,
    )
    # The two voters left keep committing.
    writer = fed.knowmon(survivor)
    for i in range(5):
        cmd = commands.make(
            'alert.raise',
            {
                'alert_id': '%032x' % i,
                'site': 'us-1',
                'kind': 'test',
                'severity': 'info',
                'message': 'after the outage of eu %d' % i,
            },
            'us-1',
        )
        result = writer.submit(cmd.to_wire(), timeout=15)
        assert result.get('ok'), result
    # And change their membership: the lost voter is removed.
    report = fed.wait(
        lambda r: sorted(v['site'] for v in r['voters']) == ['ap-1', 'us-1'],
        60,
        'the voter of eu removed',
        via=survivor,
    )
    assert all(v['connected'] for v in report['voters'])
