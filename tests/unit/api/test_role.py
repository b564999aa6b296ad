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

"""The "api" role of sodos-site, and the uwsgi entry point."""

import json
import socket
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request

import pytest

from sodos import exception
from sodos import roleset
from sodos.api import policies
from sodos.api import policy
from sodos.sim import ports


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


@pytest.fixture
def port(conf):
    port = ports.free_port()
    conf.set_override('bind_port', port, 'api')
    conf.set_override('auth_strategy', 'noauth', 'api')
    return port


def test_the_api_role_serves_beside_knowmon(conf, port):
    role_set = roleset.RoleSet(conf, ['api', 'knowmon'])
    assert [c.name for c in role_set.classes] == ['knowmon', 'api']
    role_set.start()
    try:
        (api_role,) = [r for r in role_set.roles if r.name == 'api']
        assert api_role.knowmon_api.via == 'in-process'
        status, body = get('http://127.0.0.1:%d/v1/federation' % port)
        assert status == 200
        assert body['federation']['leader'] == 'here'
        status, body = get('http://127.0.0.1:%d/v1/nope' % port)
        assert (status, body['error']['code']) == (404, 'not_found')
        line = api_role.loop.run_once()
        assert line == (
            'api: serving http://127.0.0.1:%d, KnowMon in-process, '
            '2 request(s) (0 failed) since the last cycle' % port
        )
    finally:
        role_set.stop()
    # Stopped: the port is free again (for a server, as ours, that
    # does not wait for the closed connections' TIME_WAIT).
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', port))


def test_a_port_in_use_is_a_start_error_naming_the_option(conf, port):
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', port))
        sock.listen()
        role_set = roleset.RoleSet(conf, ['knowmon', 'api'])
        with pytest.raises(exception.ConfigError, match=r'\[api\]bind_'):
            role_set.start()
    assert role_set.roles == []


def test_the_policy_rules_are_those_of_the_contract():
    # The identity and catalog rules' contracts are in test_identity
    # and test_catalog.
    names = {
        rule.name
        for rule in policies.list_rules()
        if not rule.name.startswith(('sodos:identity:', 'sodos:catalog:'))
    }
    assert names == {
        'sodos:federation:get',
        'sodos:dashboard:get',
        'sodos:site:list',
        'sodos:site:get',
        'sodos:site:drain',
        'sodos:site:undrain',
        'sodos:site:update',
        'sodos:site:update:owner',
        'sodos:site:names',
        'sodos:owner:list',
        'sodos:owner:get',
        'sodos:owner:update',
        'sodos:owner:update:weight',
        'admin_api',
        'federation_admin_api',
        'owner_admin_api',
        'project_reader_api',
        'project_member_api',
        'project_reader_or_admin',
        'project_member_or_admin',
        'sodos:appliance:list',
        'sodos:appliance:list:all_projects',
        'sodos:appliance:get',
        'sodos:appliance:create',
        'sodos:appliance:create:project_id',
        'sodos:appliance:update',
        'sodos:appliance:delete',
        'sodos:image:list',
        'sodos:image:get',
        'sodos:image:create',
        'sodos:image:distribute',
        'sodos:image:delete',
        'sodos:alert:list',
        'sodos:alert:get',
        'sodos:alert:ack',
        'sodos:alert:list:all_projects',
        'sodos:whatif:create',
        'sodos:history:list',
        'sodos:usage:list',
        'sodos:usage:list:all',
        'sodos:usage:list:owner',
        'sodos:usage:list:project',
        'sodos:healthcheck:detail',
    }
    enforcer = policy.get_enforcer()
    enforcer.load_rules()
    assert str(enforcer.rules['sodos:site:drain']) == 'role:admin'
    assert str(enforcer.rules['sodos:healthcheck:detail']) == (
        'rule:admin_api'
    )


def test_the_wsgi_module_reads_its_config_from_the_environment(tmp_path):
    config = tmp_path / 'sodos.conf'
    config.write_text(
        textwrap.dedent(
            """
            [DEFAULT]
            site_name = here
            transport_url = fake:/
            rpc_response_timeout = 1
            log_file = %s
            [api]
            auth_strategy = noauth
            """
            % (tmp_path / 'api.log')
        )
    )
    script = textwrap.dedent(
        """
        import json, webob
        from sodos.wsgi import api
        for path in ('/', '/v1/sites'):
            resp = webob.Request.blank(path).get_response(api.application)
            print(resp.status_int, json.loads(resp.body))
        """
    )
    done = subprocess.run(
        [sys.executable, '-c', script],
        env={'SODOS_CONFIG_FILE': str(config), 'PATH': '/usr/bin:/bin'},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith('200 ')
    # Nothing serves KnowMon on this bus: unavailable, saying what to check.
    assert second.startswith('503 ')
    assert "'code': 'unavailable'" in second
    assert 'noauth' in (tmp_path / 'api.log').read_text()
