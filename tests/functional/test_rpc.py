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

"""The roles of one site in separate processes, talking over RabbitMQ.

Needs a RabbitMQ: $SODOS_TEST_TRANSPORT_URL, by default the guest account
on loopback. Without one the test is skipped, except under CI=true where
it fails. Each run uses its own site name, so its RPC topics never meet
another run's on a shared broker.
"""

import os
import pathlib
import signal
import subprocess
import sys
import time
import uuid

import pytest
from oslo_config import cfg

from sodos import exception
from sodos import service
from sodos.kb import commands
from sodos.knowmon import rpcapi
from tests.functional.polling import wait_for_line

ROOT = str(pathlib.Path(__file__).resolve().parents[2])


@pytest.fixture
def site(tmp_path, transport_url):
    """A config file for a site of its own, and its processes."""
    name = 'rpctest-%s' % uuid.uuid4().hex[:12]
    config = tmp_path / 'sodos.conf'
    config.write_text(
        '[DEFAULT]\n'
        'site_name = %s\n'
        'state_path = %s\n'
        'transport_url = %s\n'
        'rpc_response_timeout = 5\n'
        '[knowmon]\n'
        'state_backend = memory\n'
        'loop_interval = 0.5\n'
        '[exec]\n'
        'loop_interval = 0.3\n'
        '[analyseplan]\n'
        'loop_interval = 0.3\n' % (name, tmp_path, transport_url)
    )
    processes = []

    def spawn(module, log_name):
        env = dict(os.environ)
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (ROOT, env.get('PYTHONPATH')) if p
        )
        log_path = str(tmp_path / log_name)
        process = subprocess.Popen(
            [sys.executable, '-m', module, '--config-file', str(config)]
            + ['--log-file', log_path],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(log_path + '.stderr', 'wb'),
        )
        processes.append(process)
        return process, log_path

    yield name, str(config), spawn
    for process in processes:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


def client(config_path):
    conf = cfg.ConfigOpts()
    service.register_opts(conf)
    conf(['--config-file', config_path], project='sodos')
    return rpcapi.KnowMonAPI(conf)


def wait_for_answer(api, timeout=30.0):
    # A call sent before the server's queue exists is lost: ask often.
    api.conf.set_override('rpc_response_timeout', 1)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                return api.status()
            except exception.NotReady:
                if time.monotonic() > deadline:
                    raise
    finally:
        api.conf.clear_override('rpc_response_timeout')


def stop(process, log_path):
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(30) == 0
    with open(log_path, encoding='utf-8') as f:
        assert 'Traceback' not in f.read()


def test_knowmon_api_and_exec_over_rabbitmq(site):
    name, config, spawn = site
    knowmon, knowmon_log = spawn('sodos.cmd.knowmon', 'knowmon.log')
    api = client(config)
    try:
        status = wait_for_answer(api)
        assert status['site'] == name
        assert status['is_leader'] is True
        assert api.in_quorum() is True
        assert set(api.read()) >= {'sites', 'actions', 'policy'}

        register = commands.make(
            'site.register', {'site': name, 'address': '127.0.0.1:1'}, name
        )
        assert api.submit(register.to_wire())['ok'] is True
        assert api.read('sites')[name]['status'] == 'up'
        bad = api.submit({'type': 'site.register', 'args': {}})
        assert bad['ok'] is False and 'Traceback' not in bad['error']
        with pytest.raises(exception.SodosError, match='unknown KB section'):
            api.read('passwords')

        exec_, exec_log = spawn('sodos.cmd.exec', 'exec.log')
        plan, plan_log = spawn('sodos.cmd.analyseplan', 'analyseplan.log')
        wait_for_line(
            exec_log,
            'exec: in quorum; reconcile (start): in step with the KB; '
            'actions: 0 running',
        )
        wait_for_line(plan_log, 'analyseplan: active (leader, term 1)')

        action = commands.make(
            'action.put',
            {
                'action_id': uuid.uuid4().hex,
                'site': name,
                'kind': 'create_server',
                'params': {},
            },
            name,
            term=status['term'],
        )
        assert api.submit(action.to_wire())['ok'] is True
        # Exec claimed it and recorded its outcome, both over RPC.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            record = api.read('actions')[action.args['action_id']]
            if record['state'] == 'failed':
                break
            time.sleep(0.2)
        assert record['result']['error'] == (
            "no Exec handler for action kind 'create_server' on site %s "
            '(installed: image.copy, image.delete, server.create, '
            'server.delete)' % name
        )
        # And its site summary reached the KB.
        assert api.read('monitoring')[name]['summary']['api']['ok'] is True
        stop(exec_, exec_log)
        stop(plan, plan_log)
        stop(knowmon, knowmon_log)
    finally:
        api.close()
