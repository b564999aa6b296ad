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

"""The ``openstack sodos`` commands run in a small cliff application,
with the real client over a keystoneauth session whose HTTP is faked by
requests-mock (what the API would answer, per its contract)."""

import io
import json
import logging
import types

import pytest
from cliff import app
from cliff import commandmanager
from keystoneauth1 import session

from sodos.osc import client
from sodos.osc.v1 import common

URL = 'http://sodos.test:8787/v1'
REQUEST_ID = 'req-9d5e3c0a-2f4b-4b7e-9a57-1c2d3e4f5a6b'


def site(name='paris', **extra):
    record = {
        'name': name,
        'status': 'up',
        'role': 'voter',
        'maintenance': '',
        'region': 'eu-west',
        'location': {'lat': 48.85, 'lon': 2.35},
        'labels': {'tier': 'gold'},
        'cost_per_vcpu_hour': 0.02,
        'carbon_intensity': 50.0,
        'pue': 1.3,
        'idle_power_kw': 4.0,
        'capacity': {
            'vcpus': 64,
            'ram_mb': 262144,
            'used_vcpus': 4,
            'used_ram_mb': 8192,
        },
        'members': 2,
        'api_healthy': True,
        'updated_at': 1764085000.0,
    }
    record.update(extra)
    return record


def appliance(states=('ACTIVE', 'ACTIVE'), **extra):
    record = {
        'id': 'a1b2c3',
        'name': 'shop',
        'priority': 50,
        'spec': {
            'name': 'shop',
            'members': [
                {'name': 'web', 'image': 'cirros', 'flavor': 'm1.small'}
            ],
        },
        'members': [
            {
                'member': 'web-%d' % i,
                'site': 'paris' if state != 'unplaced' else '',
                'state': state,
                'server_id': 'srv-%d' % i,
            }
            for i, state in enumerate(states)
        ],
        'created_at': 1764085000.0,
    }
    record.update(extra)
    return record


def error(status, code, message):
    return {
        'status_code': status,
        'json': {
            'error': {
                'code': code,
                'message': message,
                'request_id': REQUEST_ID,
            }
        },
        'headers': {client.REQUEST_ID_HEADER: REQUEST_ID},
    }


class _App(app.App):
    def __init__(self, api, stdout, stderr):
        super().__init__(
            description='sodos commands under test',
            version='1',
            command_manager=commandmanager.CommandManager(
                'openstack.sodos.v1'
            ),
            stdin=io.StringIO(),
            stdout=stdout,
            stderr=stderr,
            deferred_help=True,
        )
        self.client_manager = types.SimpleNamespace(sodos=api)


class Result(types.SimpleNamespace):
    def json(self):
        return json.loads(self.stdout)


@pytest.fixture
def api(requests_mock):
    """requests_mock, after which the commands' client is built."""
    return requests_mock


@pytest.fixture
def run(api, monkeypatch, capsys):
    """run('sodos', 'site', 'list', ...) -> Result(rc, stdout, stderr)."""
    monkeypatch.setattr(common, 'POLL_INTERVAL', 0.01)

    def run_command(*argv):
        stdout, stderr = io.StringIO(), io.StringIO()
        sodos = client.Client(session.Session(), URL)
        root = logging.getLogger()
        handlers, level = list(root.handlers), root.level
        try:
            rc = _App(sodos, stdout, stderr).run(list(argv))
        except SystemExit as exc:
            # argparse refuses bad arguments on sys.stderr, and exits.
            rc = exc.code
            stderr.write(capsys.readouterr().err)
        finally:
            # cliff adds a console handler to the root logger each run.
            root.handlers[:] = handlers
            root.setLevel(level)
        return Result(
            rc=rc, stdout=stdout.getvalue(), stderr=stderr.getvalue()
        )

    return run_command
