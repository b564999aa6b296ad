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

"""Hand-made KB views of a community cloud: owned sites, the owners'
projects and policies, appliances of those projects."""

from sodos.analyseplan import filters
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan import weighers
from tests.unit.analyseplan import kbviews

# Owners (domains) and one project each.
ORG_A, ORG_B, ORG_C = 'orga', 'orgb', 'orgc'
PROJECT = {ORG_A: '1' * 32, ORG_B: '2' * 32, ORG_C: '3' * 32}


def site(name, owner=None, **kwargs):
    if owner:
        kwargs['owner'] = owner
    return kbviews.site(name, **kwargs)


def spec(owner, name='app', **kwargs):
    found = kbviews.spec(name, **kwargs)
    if owner:
        found['project_id'] = PROJECT[owner]
    return found


def view(sites, appliances=None, policies=None, placements=None):
    found = kbviews.kb(sites, appliances, placements)
    found['identity'] = {
        'projects': {
            project: {'name': owner, 'domain_id': owner}
            for owner, project in PROJECT.items()
        }
    }
    found['owners'] = {
        owner: {'policy': policy} for owner, policy in (policies or {}).items()
    }
    return found


def planner(repair_budget=0.0):
    return planner_mod.Planner(
        filters.shipped(),
        [(weighers.FreeRamWeigher(), 1.0)],
        repair_budget=repair_budget,
    )


def sites_of(plan):
    return {m.key: m.site for m in plan.moves}
