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

"""Property: on owned sites, every plan (the repair step's included)
keeps to the owners' policies and to each site's capacity."""

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from sodos.domain import community
from tests.unit.analyseplan.kbviews import FLAVORS
from tests.unit.community.views import ORG_A
from tests.unit.community.views import ORG_B
from tests.unit.community.views import ORG_C
from tests.unit.community.views import planner
from tests.unit.community.views import site
from tests.unit.community.views import spec
from tests.unit.community.views import view

OWNERS = (ORG_A, ORG_B, ORG_C)


@st.composite
def communities(draw):
    sites = [
        site(
            's%d' % n,
            draw(st.sampled_from((None,) + OWNERS)),
            vcpu=float(draw(st.integers(1, 12))),
            ram=float(draw(st.sampled_from([2048, 8192, 16384]))),
        )
        for n in range(draw(st.integers(1, 4)))
    ]
    policies = {
        owner: {
            'admit_owners': draw(
                st.sampled_from([['*'], [], [o for o in OWNERS if o != owner]])
            ),
            'lend_share_pct': draw(st.sampled_from([100, 50, 25])),
        }
        for owner in OWNERS
        if draw(st.booleans())
    }
    apps = {}
    for n in range(draw(st.integers(1, 6))):
        count = draw(st.integers(1, 4))
        constraints = {}
        if draw(st.booleans()):
            top = min(2, len(sites), count)
            constraints['spread'] = draw(st.integers(1, top))
        apps['%032x' % (n + 1)] = spec(
            draw(st.sampled_from((None,) + OWNERS)),
            name='app%d' % n,
            count=count,
            flavor=draw(st.sampled_from(sorted(FLAVORS))),
            priority=draw(st.sampled_from([10, 50, 90])),
            **constraints,
        )
    return view(sites, apps, policies)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(communities())
def test_every_plan_keeps_to_the_owners_policies(kb):
    plan = planner(repair_budget=10.0).plan(kb)
    projects = kb['identity']['projects']
    guests: dict[str, list[float]] = {}
    used: dict[str, list[float]] = {}
    for move in plan.moves:
        record = kb['sites'][move.site]
        summary = kb['monitoring'][move.site]['summary']
        flavor = summary['flavors'][move.flavor]
        need = [flavor['vcpus'], flavor['ram_mb']]
        row = used.setdefault(move.site, [0.0, 0.0])
        used[move.site] = [u + n for u, n in zip(row, need, strict=True)]
        caps = summary['capacity']
        assert used[move.site][0] <= caps['vcpu']['total']
        assert used[move.site][1] <= caps['ram_mb']['total']
        host = community.site_owner(record)
        project = kb['appliances'][move.appliance_id]['spec'].get('project_id')
        owner = projects[project]['domain_id'] if project else ''
        if host is None or owner == host:
            continue
        policy = community.policy_of(kb['owners'], host)
        assert community.admits(policy, host, owner, project), move
        lend = community.lent(
            policy, caps['vcpu']['total'], caps['ram_mb']['total']
        )
        row = guests.setdefault(move.site, [0.0, 0.0])
        guests[move.site] = [u + n for u, n in zip(row, need, strict=True)]
        assert guests[move.site][0] <= lend[0], (move.site, lend)
        assert guests[move.site][1] <= lend[1], (move.site, lend)
