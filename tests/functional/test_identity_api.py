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

"""The federation identity through the real ``openstack sodos identity``
commands, against a one-process site (KnowMon, Exec on the simulator
driver, the API) whose Exec brings its simulated Keystone in line.

The simulated Keystone lives inside the site process: what it holds is
seen from outside through what the site writes back to the KB (its own
ids of the objects, in the ID map) and through its Exec's log, which
names every change made to it.
"""

import json
import os
import subprocess
import time

from sodos.sim import federation
from sodos.sim import ports
from tests.functional.test_osc import _openstack_command

SITE = 'site-1'
PASSWORD = 'a federation password'


def _wait(what, predicate, site, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last is True:
            return
        time.sleep(0.3)
    raise AssertionError(
        'timed out waiting for %s; last: %r\n%s'
        % (what, last, site.log()[-4000:])
    )


def test_project_user_and_role_reach_the_sites_keystone(local_federation):
    command = _openstack_command()
    port = ports.free_port()
    settings = dict(
        federation.FAST_SIMULATED_SETTINGS,
        api={'auth_strategy': 'noauth', 'bind_port': port},
        identity={'secret': 'the federation identity secret',
                  'sync_interval': 0.3},
    )  # fmt: skip
    fed = local_federation(
        voter_count=1, roles=('knowmon', 'exec', 'api'), settings=settings
    )
    site = fed.add_site(SITE)
    url = 'http://127.0.0.1:%d' % port
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)

    def openstack(*args, stdin=None, check=True):
        done = subprocess.run(
            [command, '--os-auth-type', 'none', '--os-endpoint', url]
            + list(args),
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, done.stderr + site.log()[-4000:]
        return done

    def status():
        done = openstack(
            'sodos', 'identity', 'status', '-f', 'json', check=False
        )
        if done.returncode != 0:
            return done.stderr
        found = json.loads(done.stdout)
        rows = {row['site']: row for row in found['sites']}
        return found, rows.get(SITE)

    _wait('the API', lambda: isinstance(status(), tuple) or status(), site)

    project = json.loads(
        openstack(
            'sodos', 'identity', 'project', 'create', 'demo',
            '--description', 'the demo project', '-f', 'json',
        ).stdout
    )  # fmt: skip
    user = json.loads(
        openstack(
            'sodos', 'identity', 'user', 'create', 'alice',
            '--email', 'alice@example.org', '--password-stdin', '-f', 'json',
            stdin=PASSWORD + '\n',
        ).stdout
    )  # fmt: skip
    assert user['password_version'] == 1
    assert PASSWORD not in json.dumps(user)
    openstack(
        'sodos', 'identity', 'role-assignment', 'create', '--role', 'member',
        '--user', 'alice', '--project', 'demo',
    )  # fmt: skip
    # A name taken already: refused by the KB, with its reason.
    again = openstack(
        'sodos', 'identity', 'project', 'create', 'demo', check=False
    )
    assert again.returncode == 1
    assert "project 'demo' already exists" in again.stderr

    def in_line():
        found = status()
        if not isinstance(found, tuple) or found[1] is None:
            return found
        row = found[1]
        return (row['mapped'], row['missing']) == (2, 0) or row

    _wait('the site to hold the project and the user', in_line, site)
    shown = json.loads(
        openstack('sodos', 'identity', 'project', 'show', 'demo',
                  '-f', 'json').stdout
    )  # fmt: skip
    assert shown['id'] == project['id']
    assert list(shown['site_ids']) == [SITE]
    listed = json.loads(
        openstack('sodos', 'identity', 'role-assignment', 'list',
                  '--project', 'demo', '-f', 'json').stdout
    )  # fmt: skip
    assert [(r['Role'], r['Actor Name']) for r in listed] == [
        ('member', 'alice')
    ]

    # What the site's Exec did to its (simulated) Keystone, by its log:
    # the password was decrypted there with the same secret.
    def applied(*lines):
        log = site.log()
        missing = [line for line in lines if line not in log]
        return not missing or missing

    _wait(
        'the grant at the site',
        lambda: applied(
            'identity: create project demo (domain default)',
            'identity: create user alice (domain default) (password v1)',
            'identity: grant assignment member to user alice on project demo',
        ),
        site,
    )
    assert PASSWORD not in site.log()

    openstack(
        'sodos', 'identity', 'role-assignment', 'delete', '--role', 'member',
        '--user', 'alice', '--project', 'demo',
    )  # fmt: skip
    openstack('sodos', 'identity', 'user', 'delete', 'alice')
    openstack('sodos', 'identity', 'project', 'delete', 'demo')

    def dropped():
        found = status()
        if not isinstance(found, tuple) or found[1] is None:
            return found
        return (found[1]['mapped'], found[1]['stale']) == (0, 0) or found[1]

    _wait('the site to delete them', dropped, site)
    assert (
        applied(
            'identity: revoke assignment member to user alice on project demo',
            'identity: delete user alice (domain default)',
            'identity: delete project demo (domain default)',
        )
        is True
    )
