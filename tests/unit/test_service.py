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

"""The daemon base: readiness, reload on SIGHUP, clean stop on SIGTERM."""

import os
import signal
import socket
import threading
import time

import pytest
from oslo_config import cfg

from sodos import exception
from sodos import service


def write_config(path, interval, tmp_path, **extra):
    lines = [
        '[DEFAULT]',
        'site_name = here',
        'state_path = %s' % tmp_path,
        '[knowmon]',
        'state_backend = memory',
        'serve_rpc = false',
        '[analyseplan]',
        'loop_interval = %s' % interval,
    ]
    for group, text in extra.items():
        lines += ['[%s]' % group, text]
    path.write_text('\n'.join(lines) + '\n')


@pytest.fixture
def config(tmp_path):
    """A parsed config file, as a daemon would have; logging untouched."""
    path = tmp_path / 'sodos.conf'
    write_config(path, 5.0, tmp_path)
    conf = cfg.ConfigOpts()
    service.register_opts(conf)
    conf(['--config-file', str(path)], project='sodos', prog='sodos-test')
    return conf, path


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def test_sighup_reloads_and_sigterm_stops_every_role(
    config, tmp_path, monkeypatch
):
    monkeypatch.delenv('NOTIFY_SOCKET', raising=False)
    conf, path = config
    svc = service.SiteService(conf, ['analyseplan', 'knowmon'])
    before = signal.getsignal(signal.SIGTERM)
    seen = {}

    def operator():
        # Runs beside serve(), which holds the main thread as in a daemon.
        try:
            assert svc.started.wait(10)
            seen['roles'] = list(svc.roles.roles)
            plan = seen['roles'][1]
            write_config(path, 0.05, tmp_path)
            os.kill(os.getpid(), signal.SIGHUP)
            assert wait_until(lambda: conf.analyseplan.loop_interval == 0.05)
            cycles = plan.loop.cycles
            time.sleep(1.0)
            # At the old 5 s interval there would be one cycle at most.
            seen['cycles'] = plan.loop.cycles - cycles
        finally:
            os.kill(os.getpid(), signal.SIGTERM)

    thread = threading.Thread(target=operator)
    thread.start()
    status = service.serve(conf, svc)
    thread.join()
    assert status == 0
    assert seen['cycles'] >= 5
    knowmon, plan = seen['roles']
    assert knowmon.backend.status().role == 'stopped'
    for role in seen['roles']:
        assert role.loop._periodic._thread is not None
        assert not role.loop._periodic._thread.is_alive()
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_immutable_option_is_not_changed_by_reload(config, tmp_path):
    conf, path = config
    svc = service.SiteService(conf, ['knowmon'])
    svc.start()
    try:
        write_config(path, 5.0, tmp_path, knowmon='state_backend = raft')
        conf.mutate_config_files()
        svc.reset()
        assert conf.knowmon.state_backend == 'memory'
    finally:
        svc.stop()


def test_ready_is_sent_to_systemd_once_started(config, tmp_path, monkeypatch):
    conf, _ = config
    address = str(tmp_path / 'notify')
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(address)
        notify.settimeout(10)
        monkeypatch.setenv('NOTIFY_SOCKET', address)
        svc = service.SiteService(conf, ['knowmon'])
        svc.start()
        try:
            assert notify.recv(64) == b'READY=1'
            assert 'NOTIFY_SOCKET' not in os.environ
        finally:
            svc.stop()


def test_a_start_failure_is_one_line_and_status_2(config, capsys):
    conf, _ = config
    conf.set_override('state_backend', 'raft', 'knowmon')
    svc = service.SiteService(conf, ['knowmon'])
    assert service.serve(conf, svc) == 2
    err = capsys.readouterr().err
    assert err.startswith('sodos-test: error: ')
    assert '[raft]address is not set' in err
    assert 'Traceback' not in err


def test_a_bad_value_names_its_option(config, tmp_path):
    conf, path = config
    write_config(path, 'soon', tmp_path)
    conf.reload_config_files()
    with pytest.raises(exception.ConfigError) as error:
        service.check_values(conf)
    assert str(error.value) == (
        '[analyseplan]loop_interval: invalid value: could not convert '
        "string to float: 'soon'"
    )


def test_main_reports_a_user_mistake_in_one_line(tmp_path, capsys):
    path = tmp_path / 'sodos.conf'
    write_config(path, 5.0, tmp_path, raft='voter_count = many')
    status = service.main(
        'sodos-test',
        service.configured_roles,
        argv=['--config-file', str(path)],
    )
    assert status == 2
    assert capsys.readouterr().err == (
        'sodos-test: error: [raft]voter_count: invalid value: invalid '
        "literal for int() with base 10: 'many'\n"
    )


def test_the_bus_options_are_read_only_by_a_site_that_uses_the_bus(
    tmp_path,
):
    path = tmp_path / 'sodos.conf'
    write_config(path, 5.0, tmp_path)
    local = service.prepare(['--config-file', str(path)], 'sodos-test')
    assert 'transport_url' not in local

    write_config(
        path,
        5.0,
        tmp_path,
        exec='notifications_url = rabbit://u:p@192.0.2.1:5672/',
    )
    with open(path, 'a', encoding='utf-8') as f:
        f.write('[DEFAULT]\ntransport_url = rabbit://u:p@192.0.2.1:5672/\n')
    bus = service.prepare(['--config-file', str(path)], 'sodos-test')
    assert bus.transport_url == 'rabbit://u:p@192.0.2.1:5672/'


def test_a_bad_bus_option_is_named_at_start(tmp_path):
    path = tmp_path / 'sodos.conf'
    write_config(
        path,
        5.0,
        tmp_path,
        oslo_messaging_rabbit='rabbit_qos_prefetch_count = x',
    )
    with open(path, 'a', encoding='utf-8') as f:
        f.write('[knowmon]\nserve_rpc = true\n')
    with pytest.raises(
        exception.ConfigError, match='rabbit_qos_prefetch_count'
    ):
        service.prepare(['--config-file', str(path)], 'sodos-test')
