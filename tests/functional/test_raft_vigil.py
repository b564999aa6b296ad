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

"""A killed leader's voters elect another at once, on real site
processes: its Raft port refuses their connections (sodos.kb.raft.vigil).

Raft's election timeout is set far beyond what the test waits, and the
failure detector is the heartbeat one: only the refusal can elect in
time.
"""

from tests.functional.test_gossip import SLOW_ELECTION
from tests.functional.test_gossip import formed

three_voters = formed(3, 3)


def test_the_voters_of_a_killed_leader_elect_another_at_once(
    local_federation,
):
    fed = local_federation(voter_count=3, settings=SLOW_ELECTION)
    fed.add_site()
    fed.wait(lambda r: r['leader'], 90, 'a leader')
    for _ in range(2):
        fed.add_site()
    report = fed.wait(three_voters, 120, 'three voters')
    # Every voter knows the others: killed while the third one's
    # promotion is still on its way to the second, the leader would
    # leave two voters that disagree on who votes (a Raft membership
    # change in flight, which no election resolves).
    for site in fed.sites.values():
        fed.wait(
            three_voters,
            60,
            'three voters as %s sees them' % site.name,
            via=site,
        )
    old = report['leader_site']
    survivors = [v['site'] for v in report['voters'] if v['site'] != old]
    via = fed.sites[survivors[0]]
    fed.sites[old].kill()
    # Raft's own timeout is 40 s at the least.
    fed.wait(
        lambda r: r['leader_site'] in survivors and r['has_quorum'],
        35,
        'a new leader among %s' % ', '.join(survivors),
        via=via,
    )
    assert any(
        'refuses connections' in fed.sites[site].log() for site in survivors
    )
