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

"""The KnowMon API: in process, and over a message bus (fake://)."""

import threading
import time

import pytest

from sodos import exception
from sodos import rpc
from sodos.kb import commands
from sodos.knowmon import manager
from sodos.knowmon import methods
from sodos.knowmon import rpcapi


def test_submit_of_a_malformed_command_is_an_error_result(api):
    before = api.read()
    result = api.submit({'type': 'site.leave'})
    assert result['ok'] is False
    assert 'command must contain' in result['error']
    assert api.read() == before


def test_submit_returns_the_applier_result(api):
    cmd = commands.make('policy.set', {'key': 'paused', 'value': True}, 'here')
    assert api.submit(cmd.to_wire()) == {'ok': True}
    assert api.read('policy')['paused'] is True


def test_read_of_an_unknown_section_names_the_known_ones(api):
    with pytest.raises(exception.SodosError, match='known: federation'):
        api.read('secrets')


def raise_alert(api, alert_id, site):
    args = {
        'alert_id': alert_id,
        'site': site,
        'kind': 'test',
        'severity': 'info',
        'message': 'm',
    }
    cmd = commands.make('alert.raise', args, 'here')
    assert api.submit(cmd.to_wire())['ok']


def test_a_read_by_site_keeps_only_what_concerns_that_site(api):
    raise_alert(api, 'a' * 32, 'here')
    raise_alert(api, 'b' * 32, 'there')
    assert set(api.read('alerts')) == {'a' * 32, 'b' * 32}
    assert set(api.read('alerts', site='there')) == {'b' * 32}
    assert set(api.read('sites', site='here')) == {'here'}
    assert api.read('sites', site='nowhere') == {}
    with pytest.raises(exception.SodosError, match='cannot be read by site'):
        api.read('policy', site='here')


def test_a_read_by_key_keeps_one_entry(api):
    raise_alert(api, 'a' * 32, 'here')
    raise_alert(api, 'b' * 32, 'there')
    assert set(api.read('alerts', key='b' * 32)) == {'b' * 32}
    assert api.read('alerts', key='c' * 32) == {}
    with pytest.raises(exception.SodosError, match='names a section'):
        api.read(key='b' * 32)


def test_status_and_quorum(api):
    status = api.status()
    assert status['is_leader'] is True
    assert status['site'] == 'here'
    assert api.in_quorum() is True
    assert api.via == 'in-process'


@pytest.fixture
def over_bus(conf, knowmon):
    """KnowMonAPI and a real RPC server for the KnowMon, on fake://."""
    rpc.register_opts(conf)
    conf.set_override('transport_url', 'fake:/')
    conf.set_override('rpc_response_timeout', 5)
    transport = rpc.transport(conf)
    server = rpc.BackgroundServer(
        rpc.server(conf, conf.knowmon.rpc_topic, [knowmon.manager], transport)
    )
    server.start()
    assert server.ready.wait(10)
    client = rpcapi.KnowMonAPI(conf, transport=transport)
    yield client
    server.stop()
    transport.cleanup()


def test_the_same_answers_over_the_bus(over_bus, api):
    assert over_bus.via == 'RPC'
    assert over_bus.read() == api.read()
    assert over_bus.status() == api.status()
    assert over_bus.in_quorum() is True
    cmd = commands.make('policy.set', {'key': 'paused', 'value': True}, 'here')
    assert over_bus.submit(cmd.to_wire()) == {'ok': True}
    assert over_bus.read('policy')['paused'] is True
    raise_alert(api, 'c' * 32, 'there')
    assert over_bus.read('alerts', site='there') == api.read(
        'alerts', site='there'
    )
    assert over_bus.read('alerts', site='here') == {}
    assert over_bus.read('alerts', key='c' * 32) == api.read(
        'alerts', key='c' * 32
    )
    assert set(over_bus.read('alerts', key='c' * 32)) == {'c' * 32}


def policy_wires(*values):
    return [
        commands.make(
            'policy.set', {'key': 'voter_count', 'value': value}, 'here'
        ).to_wire()
        for value in values
    ]


def test_submit_many_commits_in_order_and_answers_each(api):
    wires = policy_wires(1, 3)
    wires.insert(1, {'type': 'site.leave'})  # malformed: answered alone
    results = api.submit_many(wires)
    assert [r['ok'] for r in results] == [True, False, True]
    assert 'command must contain' in results[1]['error']
    # Both good ones applied, in the order given.
    assert api.read('policy')['voter_count'] == 3


def test_submit_many_over_the_bus(over_bus, api):
    results = over_bus.submit_many(policy_wires(3, 5))
    assert results == [{'ok': True}, {'ok': True}]
    assert api.read('policy')['voter_count'] == 5
    assert over_bus.submit_many([{'type': 'x'}])[0]['ok'] is False


def test_submit_many_to_an_older_knowmon_goes_one_by_one(
    over_bus, api, monkeypatch
):
    # A KnowMon serving API 1.2 (before submit_many): the client falls
    # back to one submit per command and remembers it.
    from sodos.knowmon import manager

    monkeypatch.setattr(manager, 'API_VERSION', '1.2')
    calls = []
    submit = over_bus.submit

    def counted(wire, timeout=None):
        calls.append(wire['args']['value'])
        return submit(wire, timeout)

    monkeypatch.setattr(over_bus, 'submit', counted)
    assert over_bus.submit_many(policy_wires(5, 7)) == [
        {'ok': True},
        {'ok': True},
    ]
    assert calls == [5, 7]
    assert api.read('policy')['voter_count'] == 7
    over_bus.submit_many(policy_wires(1))
    assert calls == [5, 7, 1]


def test_errors_over_the_bus_are_plain(over_bus):
    result = over_bus.submit({'type': 'site.leave', 'args': 'nope'})
    assert result['ok'] is False
    assert 'Traceback' not in result['error']
    with pytest.raises(exception.SodosError, match='unknown KB section'):
        over_bus.read('secrets')


def test_a_silent_knowmon_is_not_ready(conf):
    rpc.register_opts(conf)
    conf.set_override('transport_url', 'fake:/')
    client = rpcapi.KnowMonAPI(conf, site='nobody')
    started = time.monotonic()
    with pytest.raises(exception.NotReady, match='nobody did not answer'):
        client._send('status', {}, timeout=0.5)
    assert time.monotonic() - started < 5
    client.close()


def test_a_stuck_bus_call_is_cut_at_its_deadline():
    deadline = rpc.Deadline('KnowMon of site x')
    release = []

    def stuck():
        while not release:
            time.sleep(0.01)

    with pytest.raises(exception.NotReady, match='no answer .* in 0 s'):
        deadline.run(stuck, 0.1)
    # One stuck call at a time: the next fails at once.
    with pytest.raises(exception.NotReady, match='still waiting'):
        deadline.run(lambda: 1, 5)
    release.append(True)
    time.sleep(0.1)
    assert deadline.run(lambda: 2, 5) == 2


def test_calls_in_flight_do_not_block_each_other():
    deadline = rpc.Deadline('KnowMon of site x')
    release = threading.Event()
    results = []
    slow = threading.Thread(
        target=lambda: results.append(deadline.run(release.wait, 5))
    )
    slow.start()
    time.sleep(0.1)
    # A second role's call while the first is merely slow, not stuck.
    assert deadline.run(lambda: 'fast', 5) == 'fast'
    release.set()
    slow.join(5)
    assert results == [True]


@pytest.mark.parametrize(
    'error, name',
    [
        (RuntimeError('disk on fire'), 'RuntimeError'),
        # Not a built-in: oslo.messaging sends it as a RemoteError.
        (exception.CommitTimeout('disk on fire'), 'CommitTimeout'),
    ],
)
def test_a_remote_failure_has_no_traceback(over_bus, knowmon, error, name):
    def broken(context):
        raise error

    knowmon.manager.liveness = broken
    with pytest.raises(exception.SodosError) as caught:
        over_bus.liveness()
    assert str(caught.value) == (
        'KnowMon of site here failed on liveness: %s: disk on fire' % name
    )


def test_every_method_of_the_table_is_served_and_called():
    for name in methods.METHODS:
        assert callable(getattr(manager.KnowMonManager, name))
        assert callable(getattr(methods.KnowMonClient, name))


def test_a_read_asks_the_api_version_its_fields_need():
    read = methods.METHODS['read']
    assert read.version_for({'section': 'alerts'}) == '1.0'
    assert read.version_for({'section': 'alerts', 'site': 'a'}) == '1.2'
    assert read.version_for({'section': 'alerts', 'key': 'k'}) == '1.3'
    assert read.version_for({'section': 'alerts', 'site': None}) == '1.0'
    # Versions compare as numbers, not strings.
    assert (
        methods.Method('1.2', later={'x': '1.10'}).version_for({'x': 1})
        == '1.10'
    )


def test_a_read_in_the_arguments_of_older_clients_is_answered(knowmon, api):
    raise_alert(api, 'a' * 32, 'here')
    reply = knowmon.manager.read({}, section='alerts', site='here', key=None)
    assert set(reply['data']) == {'a' * 32}
    assert knowmon.manager.read({}, section='policy')['ok'] is True
    reply = knowmon.manager.read({}, section='alerts', colour='red')
    assert reply['ok'] is False
    assert 'unknown read argument' in reply['error']


def test_a_read_by_key_of_an_older_knowmon_fails_plainly(
    over_bus, api, monkeypatch
):
    # A KnowMon serving API 1.2: reads by site still work; by key, the
    # bus refuses the version rather than answering the whole section.
    monkeypatch.setattr(manager, 'API_VERSION', '1.2')
    raise_alert(api, 'c' * 32, 'here')
    assert set(over_bus.read('alerts', site='here')) == {'c' * 32}
    with pytest.raises(exception.SodosError, match=rpcapi.UNSUPPORTED):
        over_bus.read('alerts', key='c' * 32)
