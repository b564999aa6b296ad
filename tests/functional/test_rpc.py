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

"""The roles of one site in separate processes, talking over RabbitMQ."""

import time

from sodos.kb import commands


def wait_for_line(path, text, timeout=30.0):
    deadline = time.monotonic() + timeout
    content = ''
    while time.monotonic() < deadline:
        try:
            with open(path, encoding='utf-8') as f:
                content = f.read()
        except FileNotFoundError:
            content = ''
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(
        '%r not in %s after %.0f s:\n%s'
        % (text, path, timeout, content[-3000:])
    )


def test_exec_and_analyseplan_use_knowmon_over_rpc(
    local_federation, transport_url
):
    fed = local_federation(
        voter_count=1,
        roles=('knowmon',),
        transport_url=transport_url,
        settings={
            'exec': {'loop_interval': 0.3},
            'analyseplan': {'loop_interval': 0.3},
        },
    )
    site = fed.add_site()
    fed.wait(lambda r: r['leader'] and r['members'], 30, 'a leader')
    exec_process = site.spawn('sodos.cmd.exec', 'exec')
    plan_process = site.spawn('sodos.cmd.analyseplan', 'analyseplan')
    exec_log = site.dir + '/exec.log'
    wait_for_line(exec_log, 'exec: in quorum, no action pending for site-1')
    wait_for_line(
        site.dir + '/analyseplan.log', 'analyseplan: active (leader, term'
    )

    api = fed.knowmon(site)
    term = api.status()['term']
    action = commands.make(
        'action.put',
        {
            'action_id': 'a' * 32,
            'site': site.name,
            'kind': 'create_server',
            'params': {},
        },
        site.name,
        term=term,
    )
    assert api.submit(action.to_wire())['ok'] is True
    wait_for_line(exec_log, '1 action(s) pending for site-1 (create_server)')

    for process in (exec_process, plan_process):
        process.terminate()
        assert process.wait(20) == 0
