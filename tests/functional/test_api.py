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

"""The REST API of real sodos-site processes, over HTTP on loopback."""

import json
import time
import urllib.error
import urllib.request

from sodos.sim import ports
from tests.functional.test_analyseplan import SETTINGS

SPEC = {
    'name': 'shop',
    'members': [
        {'name': 'web', 'image': 'fake-image', 'flavor': 'm1.tiny', 'count': 2}
    ],
}


def call(base, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={'Content-Type': 'application/json'},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait(what, predicate, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except OSError as exc:  # the API not listening yet
            last = exc
        if last is True:
            return
        time.sleep(0.3)
    raise AssertionError('timed out waiting for %s; last: %r' % (what, last))


def api_config(site):
    port = ports.free_port()
    site.write_config(api={'bind_port': port, 'auth_strategy': 'noauth'})
    return 'http://127.0.0.1:%d' % port


def members(base, appliance_id):
    status, body = call(base, 'GET', '/v1/appliances/' + appliance_id)
    assert status == 200, body
    return body['appliance']['members']


def all_active(base, appliance_id, avoid=None):
    found = members(base, appliance_id)
    return (
        all(m['state'] == 'ACTIVE' and m['site'] != avoid for m in found)
        or found
    )


def test_one_process_sites_serve_the_api(local_federation):
    fed = local_federation(
        voter_count=1,
        roles=('knowmon', 'exec', 'analyseplan', 'api'),
        settings=SETTINGS,
    )
    bases = {}
    for _ in range(2):
        site = fed.add_site(start=False)
        bases[site.name] = api_config(site)
        site.start()
    first, second = bases['site-1'], bases['site-2']

    def two_up():
        status, body = call(first, 'GET', '/v1/federation')
        return (
            status == 200 and body['federation']['sites']['up'] == 2
        ) or body

    wait('two sites up', two_up)
    status, body = call(first, 'GET', '/v1/federation')
    assert body['federation']['leader'] == 'site-1'

    status, body = call(first, 'POST', '/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    aid = body['appliance']['id']
    wait('every member ACTIVE', lambda: all_active(first, aid))
    # The other site's API reads the same, replicated, KB (once its
    # member has applied the latest entries).
    wait(
        'the same members at the other site',
        lambda: (
            members(second, aid) == members(first, aid) or members(second, aid)
        ),
    )

    home = members(first, aid)[0]['site']
    status, body = call(first, 'POST', '/v1/sites/%s/drain' % home, {})
    assert status == 200, body
    assert body['site']['maintenance'] == 'draining'
    wait('members moved off ' + home, lambda: all_active(first, aid, home))

    def drained():
        site = call(first, 'GET', '/v1/sites/' + home)[1]['site']
        return site['maintenance'] == 'drained' or site

    wait(home + ' drained', drained)
    status, body = call(first, 'POST', '/v1/sites/%s/undrain' % home, {})
    assert (status, body['site']['maintenance']) == (200, '')
    status, _ = call(first, 'DELETE', '/v1/appliances/' + aid)
    assert status == 204


def test_the_api_alone_reaches_knowmon_over_the_bus(
    local_federation, transport_url
):
    fed = local_federation(
        voter_count=1, transport_url=transport_url, settings=SETTINGS
    )
    site = fed.add_site(start=False)
    base = api_config(site)
    site.start()
    site.spawn('sodos.api.server', 'api')

    def ready():
        status, body = call(base, 'GET', '/v1/federation')
        return (
            status == 200 and body['federation']['leader'] == 'site-1'
        ) or (
            status,
            body,
        )

    wait('the API over RPC', ready)
    status, body = call(base, 'POST', '/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    wait(
        'every member ACTIVE',
        lambda: all_active(base, body['appliance']['id']),
    )
    status, body = call(base, 'POST', '/v1/whatif', {'fail_sites': ['site-1']})
    assert status == 200, body
    assert len(body['whatif']['unplaceable']) == 2


def test_an_appliance_changed_live_grows_and_shrinks(local_federation):
    fed = local_federation(
        voter_count=1,
        roles=('knowmon', 'exec', 'analyseplan', 'api'),
        settings=SETTINGS,
    )
    site = fed.add_site(start=False)
    base = api_config(site)
    site.start()

    def up():
        status, body = call(base, 'GET', '/v1/federation')
        return (
            status == 200 and body['federation']['sites']['up'] == 1
        ) or body

    wait('the site up', up)
    status, body = call(base, 'POST', '/v1/appliances', {'appliance': SPEC})
    assert status == 201, body
    aid = body['appliance']['id']
    path = '/v1/appliances/' + aid
    wait('every member ACTIVE', lambda: all_active(base, aid))

    def counted(count):
        member = dict(SPEC['members'][0], count=count)
        return {'appliance': {'members': [member]}}

    status, body = call(base, 'PATCH', path, counted(3))
    assert status == 200, body
    wait(
        'three members ACTIVE',
        lambda: len(members(base, aid)) == 3 and all_active(base, aid),
    )
    status, body = call(base, 'PATCH', path, counted(1))
    assert status == 200, body

    def shrunk():
        # The placements are gone at once; the servers once the site's
        # Exec has deleted them.
        deleted = sorted(
            a['member']
            for a in call(base, 'GET', '/v1/dashboard')[1]['actions']
            if a['kind'] == 'server.delete' and a['state'] == 'done'
        )
        left = [m['member'] for m in members(base, aid)]
        return (left == ['web-0'] and deleted == ['web-1', 'web-2']) or (
            left,
            deleted,
        )

    wait('two servers deleted', shrunk)
    before = call(base, 'GET', path)[1]['appliance']['spec']
    bad = {'appliance': {'members': [dict(SPEC['members'][0], flavor='x')]}}
    status, body = call(base, 'PATCH', path, bad)
    assert status == 400, body
    assert 'body.appliance.members[0].flavor' in body['error']['message']
    assert call(base, 'GET', path)[1]['appliance']['spec'] == before
