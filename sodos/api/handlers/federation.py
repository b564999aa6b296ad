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

"""The federation as this site's KnowMon sees it."""

from __future__ import annotations

import webob

from sodos import readmodel
from sodos.api import util
from sodos.api.policies import federation as policies
from sodos.kb import failure_domains


def show(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.GET)
    svc = util.services(req)
    with util.knowmon_errors(svc.site):
        status = svc.knowmon.status()
    policy = util.read(req, 'policy')
    sites = util.read(req, 'sites')
    voters = sorted(
        {v.get('site') or v['address'] for v in status.get('voters') or []}
    )
    return util.respond(
        {
            'federation': {
                'leader': status.get('leader_site') or status.get('leader'),
                'term': status.get('term', 0),
                'voters': voters,
                'voter_count': policy.get('voter_count'),
                'paused': bool(policy.get('paused')),
                'consolidate': bool(policy.get('consolidate')),
                'sites': readmodel.site_counts(sites),
                'failure_domains': failure_domains.summary(voters, sites),
            }
        }
    )
