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

"""The simulated site keeps Nova's rules."""

import json
import re

import pytest

from sodos import exception
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import driver as simulator
from sodos.exec.drivers.simulator import site as simulated_site


@pytest.fixture
def sim(conf):
    conf.set_override('hosts', 2, 'simulator')
    conf.set_override('host_vcpus', 2, 'simulator')
    conf.set_override('host_ram_mb', 2560, 'simulator')
    conf.set_override('host_disk_gb', 100, 'simulator')
    conf.set_override('cpu_allocation_ratio', 2.0, 'simulator')
    conf.set_override('boot_seconds', 0.0, 'simulator')
    conf.set_override('delete_seconds', 0.0, 'simulator')
    return simulator.SimulatorDriver(conf)


def spec(member='web', image='fake-image', flavor='m1.small'):
    return driver.ServerSpec(
        appliance_id='a' * 32,
        member=member,
        action_id='b' * 32,
        name='vm-' + member,
        image=image,
        flavor=flavor,
    )


def test_capacity_counts_ratios_reserve_and_flavors(sim):
    cap = sim.capacity()
    assert (cap['vcpu'].total, cap['vcpu'].used) == (8.0, 0.0)
    # 2560 MB per host minus the 512 MB Nova reserves for the host.
    assert cap['ram_mb'].total == 4096.0
    sim.boot(spec())
    cap = sim.capacity()
    assert (cap['vcpu'].used, cap['ram_mb'].used, cap['disk_gb'].used) == (
        1.0,
        2048.0,
        20.0,
    )


def test_server_builds_then_goes_active(sim, conf):
    conf.set_override('boot_seconds', 3600.0, 'simulator')
    made = sim.boot(spec())
    assert sim.get_server(made.id).status == 'BUILD'
    conf.set_override('boot_seconds', 0.0, 'simulator')
    server = sim.get_server(made.id)
    assert server.status == 'ACTIVE'
    assert (server.appliance_id, server.member) == ('a' * 32, 'web')


def test_no_room_means_error_with_novas_fault_and_no_usage(sim):
    # Two hosts of 2048 MB usable each: two m1.small fit, a third not.
    sim.boot(spec('one'))
    sim.boot(spec('two'))
    third = sim.boot(spec('three'))
    server = sim.get_server(third.id)
    assert server.status == 'ERROR'
    assert server.fault == simulated_site.NO_VALID_HOST
    assert sim.capacity()['ram_mb'].used == 4096.0


@pytest.mark.parametrize(
    'kwargs, message',
    [
        ({'image': 'nope'}, 'Image nope could not be found. (HTTP 400)'),
        ({'flavor': 'x9'}, 'Flavor x9 could not be found. (HTTP 400)'),
    ],
)
def test_unknown_image_or_flavor_is_refused(sim, kwargs, message):
    with pytest.raises(driver.PermanentError, match=re.escape(message)):
        sim.boot(spec(**kwargs))
    assert sim.list_servers() == []


def test_instance_quota(sim, conf):
    conf.set_override('max_instances', 1, 'simulator')
    sim.boot(spec('one', flavor='m1.tiny'))
    with pytest.raises(driver.PermanentError, match='Quota exceeded'):
        sim.boot(spec('two', flavor='m1.tiny'))


def test_api_down_switch_fails_every_call_transiently(sim, conf):
    conf.set_override('api_down', True, 'simulator')
    with pytest.raises(driver.TransientError, match='API unreachable'):
        sim.list_servers()
    conf.set_override('api_down', False, 'simulator')
    assert sim.list_servers() == []


def test_failed_host_errors_its_servers_and_loses_capacity(sim, conf):
    made = sim.boot(spec())
    host = sim.site._servers[made.id]['host']
    conf.set_override('failed_hosts', [host], 'simulator')
    server = sim.get_server(made.id)
    assert server.status == 'ERROR'
    assert 'is down' in server.fault
    assert sim.capacity()['vcpu'].total == 4.0
    # The next server lands on the host still up.
    other = sim.boot(spec('other'))
    assert sim.site._servers[other.id]['host'] != host


def test_delete_takes_delete_seconds(sim, conf):
    made = sim.boot(spec())
    conf.set_override('delete_seconds', 3600.0, 'simulator')
    sim.delete(made.id)
    assert sim.get_server(made.id) is None  # DELETED is gone for callers
    assert sim.capacity()['vcpu'].used == 1.0  # still being deleted
    conf.set_override('delete_seconds', 0.0, 'simulator')
    assert sim.capacity()['vcpu'].used == 0.0


def test_servers_survive_a_restart(sim, conf):
    made = sim.boot(spec())
    again = simulator.SimulatorDriver(conf)
    assert [s.id for s in again.list_servers()] == [made.id]


def test_unreadable_state_file_is_a_clear_error(conf, tmp_path):
    path = tmp_path / 'state.json'
    path.write_text(json.dumps({'servers': []}))
    conf.set_override('state_file', str(path), 'simulator')
    with pytest.raises(exception.ConfigError, match='move it aside'):
        simulator.SimulatorDriver(conf)


def test_bad_flavor_option_names_the_entry(conf):
    conf.set_override('flavors', ['m1.tiny:1:512'], 'simulator')
    with pytest.raises(exception.ConfigError, match="'m1.tiny:1:512'"):
        simulator.SimulatorDriver(conf)
