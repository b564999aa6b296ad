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

"""Accounting in a real site process: KnowMon's history loop adds what
the running members use to the history database, and GET /v1/usage
serves it (noauth: the caller is the federation admin)."""

import json
import time
import urllib.request

import pytest

from sodos.sim import federation
from sodos.sim import ports

SETTINGS = dict(
    federation.FAST_SIMULATED_SETTINGS,
    analyseplan={'loop_interval': 0.5},
    knowmon=dict(federation.LAN_SETTINGS['knowmon'], history_interval=0.5),
)


def call(base, path, body=None):
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Content-Type': 'application/json'},
        method='POST' if body is not None else 'GET',
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def poll(what, read, check, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = read()
        except OSError as exc:  # the API not listening yet
            last = exc
        else:
            if check(last):
                return last
        time.sleep(0.2)
    raise AssertionError('timed out waiting for %s; last: %r' % (what, last))


def test_running_members_are_accounted_and_served(local_federation):
    fed = local_federation(voter_count=1, settings=SETTINGS)
    site = fed.add_site(start=False)
    port = int(ports.free_address().rsplit(':', 1)[1])
    base = 'http://127.0.0.1:%d/v1' % port
    site.write_config(
        api={'bind_port': port, 'auth_strategy': 'noauth'},
        DEFAULT={'roles': fed.roles + ['api']},
    )
    synced = site.manage('db', 'sync')
    assert synced.returncode == 0, synced.stderr
    site.start()
    fed.wait(lambda r: r['leader'], 30, 'a leader')

    spec = {
        'name': 'acct',
        'members': [
            {
                'name': 'web',
                'image': 'fake-image',
                'flavor': 'm1.small',
                'count': 2,
            }
        ],
    }
    poll(
        'the API', lambda: call(base, '/appliances', {'appliance': spec}), bool
    )
    poll(
        'both members active',
        lambda: call(base, '/appliances')['appliances'],
        lambda rows: rows and rows[0]['members_active'] == 2,
    )

    def site_row():
        rows = call(base, '/usage?by=site')['usage']
        return rows[0] if rows else None

    first = poll('usage of the site', site_row, bool)
    later = poll(
        'more usage',
        site_row,
        lambda row: row and row['member_hours'] > first['member_hours'],
    )
    assert later['site'] == site.name
    # Two m1.small members (1 vCPU, 2 GB each), counted once each; the
    # API rounds each figure to 6 decimals on its own.
    assert later['vcpu_hours'] == pytest.approx(
        later['member_hours'], abs=2e-6
    )
    assert later['ram_gb_hours'] == pytest.approx(
        2 * later['member_hours'], abs=4e-6
    )
    # An appliance of no project the federation manages: no owner.
    [row] = call(base, '/usage')['usage']
    assert (row['owner'], row['project']) == ('', '')
