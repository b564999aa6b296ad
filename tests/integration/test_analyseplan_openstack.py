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

"""AnalysePlan on three real OpenStack sites.

Three ``sodos-site`` processes, each running every role with the
openstack Exec driver against its own minicloud. An appliance spread
over two sites is placed by the leader's AnalysePlan; the sodos process
of one hosting site is killed, and the lost member comes back as a real
server, ACTIVE, on the third site.
"""

from __future__ import annotations

import time

import pytest
from novaclient import client as nova_client

from tests import kbwriter
from tests.integration import sodos_sites
from tests.integration.conftest import SITE_NAMES

SPEC = {
    'name': 'ha-web',
    'members': [
        {'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny', 'count': 2}
    ],
    'constraints': {'spread': 2},
}


def _tune(settings):
    # The planner needs every site's capacity and images soon.
    settings['exec']['monitor_interval'] = 5
    settings['analyseplan'] = {'loop_interval': 1.0}


@pytest.fixture(scope='module')
def planned_sites(minicloud_sites, tmp_path_factory):
    with sodos_sites.running_federation(
        minicloud_sites,
        str(tmp_path_factory.mktemp('sodos-plan')),
        voter_count=3,
        tune=_tune,
    ) as fed:
        yield fed


def active_servers(mc, appliance_id):
    nova = nova_client.Client(
        '2.79', session=mc.session(), region_name=mc.region
    )
    return {
        s.metadata['sodos:member']: s
        for s in nova.servers.list()
        if s.metadata.get('sodos:appliance') == appliance_id
        and s.status == 'ACTIVE'
    }


def wait(check, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(1.0)
    raise AssertionError(
        '%s: not after %.0f s (last: %s)' % (what, timeout, last)
    )


def test_lost_member_is_rebuilt_on_the_third_real_site(
    planned_sites, minicloud_sites
):
    fed = planned_sites
    kb = kbwriter.KBWriter(fed.knowmon(fed.leader()), origin='it')
    kb.wait_monitoring(
        lambda m: all(
            (m.get(n) or {}).get('summary', {}).get('flavors')
            for n in SITE_NAMES
        ),
        120,
        'every site reporting its flavors',
    )
    app = kb.appliance(SPEC)

    def placed_and_active():
        placements = kb.api.read('placements')
        mine = {
            p['member']: p['site']
            for k, p in placements.items()
            if k.startswith(app + '/')
        }
        if len(mine) != 2:
            return None
        for member, site in mine.items():
            if member not in active_servers(minicloud_sites[site], app):
                return None
        return mine

    first = wait(placed_and_active, 300, 'both members ACTIVE')
    assert len(set(first.values())) == 2  # spread 2: two real sites
    # From now on read through the third site, which is never killed.
    third = next(n for n in SITE_NAMES if n not in first.values())
    kb.api = fed.knowmon(fed.sites[third])
    leader = fed.leader()
    victim_name = next(
        s for s in sorted(set(first.values())) if s != leader.name
    )
    lost = next(m for m, s in first.items() if s == victim_name)

    fed.sites[victim_name].kill()
    after = wait(
        lambda: (lambda p: p if p and p.get(lost) == third else None)(
            placed_and_active()
        ),
        300,
        'member %s ACTIVE on %s' % (lost, third),
    )
    assert set(after.values()) == {third} | (
        set(first.values()) - {victim_name}
    )
    server = active_servers(minicloud_sites[third], app)[lost]
    assert server.metadata['sodos:appliance'] == app
