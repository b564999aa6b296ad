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

"""AnalysePlan: placement and re-placement, active beside the leader only.

Every site runs it; only the one whose KnowMon is the Raft leader plans,
the others stand by and take over at the next election. A deposed leader
may believe it leads for a while: the plans it writes carry its term and
the KB refuses stale ones, so "am I leader" here is a hint, not a lock.
"""

from __future__ import annotations

from sodos import roles


class AnalysePlanRole(roles.Role):
    name = 'analyseplan'

    def cycle(self) -> str:
        api = self.knowmon_api
        status = api.status()
        if not status['is_leader']:
            return 'analyseplan: standby, leader is %s (term %d)' % (
                status['leader_site'] or status['leader'] or 'unknown',
                status['term'],
            )
        if api.read('policy').get('paused'):
            return (
                'analyseplan: active (leader, term %d): paused by '
                'policy, not planning' % status['term']
            )
        appliances = api.read('appliances')
        return (
            'analyseplan: active (leader, term %d): %d appliance(s), '
            'nothing to plan' % (status['term'], len(appliances))
        )
