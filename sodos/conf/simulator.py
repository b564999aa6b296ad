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

from oslo_config import cfg

from sodos.conf import base

GROUP = cfg.OptGroup(
    'simulator',
    title='Simulated site',
    help='The simulator Exec driver: an in-memory site that behaves as '
    'Nova reports (server states, capacity accounting), for outage '
    'simulation, the local federation and tests. The switches marked '
    'mutable take effect on SIGHUP.',
)

OPTS: list[cfg.Opt] = [
    cfg.IntOpt('hosts', default=4, min=1, help='Compute hosts.'),
    cfg.IntOpt('host_vcpus', default=16, min=1, help='vCPUs per host.'),
    cfg.IntOpt('host_ram_mb', default=65536, min=1, help='RAM per host.'),
    cfg.IntOpt('host_disk_gb', default=1024, min=1, help='Disk per host.'),
    cfg.IntOpt(
        'reserved_host_memory_mb',
        default=512,
        min=0,
        help='RAM per host kept for the host itself, as in Nova.',
    ),
    cfg.FloatOpt(
        'cpu_allocation_ratio',
        default=4.0,
        min=0.1,
        help='vCPU overcommit, as Nova initial_cpu_allocation_ratio.',
    ),
    cfg.FloatOpt(
        'ram_allocation_ratio',
        default=1.0,
        min=0.1,
        help='RAM overcommit, as Nova initial_ram_allocation_ratio.',
    ),
    cfg.FloatOpt(
        'disk_allocation_ratio',
        default=1.0,
        min=0.1,
        help='Disk overcommit, as Nova initial_disk_allocation_ratio.',
    ),
    cfg.ListOpt(
        'flavors',
        default=[
            'm1.tiny:1:512:1',
            'm1.small:1:2048:20',
            'm1.medium:2:4096:40',
            'm1.large:4:8192:80',
        ],
        help='Flavors as NAME:VCPUS:RAM_MB:DISK_GB.',
    ),
    cfg.ListOpt(
        'images',
        default=['fake-image', 'cirros'],
        help='Names of the images present at the site.',
    ),
    cfg.IntOpt(
        'max_instances',
        default=-1,
        min=-1,
        help='Instance quota (-1: unlimited); above it a create is '
        'refused as Nova refuses it.',
    ),
    cfg.FloatOpt(
        'boot_seconds',
        default=1.0,
        min=0.0,
        mutable=True,
        help='Seconds a server stays in BUILD before ACTIVE.',
    ),
    cfg.FloatOpt(
        'delete_seconds',
        default=0.5,
        min=0.0,
        mutable=True,
        help='Seconds a deleted server takes to disappear.',
    ),
    cfg.FloatOpt(
        'api_latency_ms',
        default=0.0,
        min=0.0,
        mutable=True,
        help='Added to every API call (a far or slow site).',
    ),
    cfg.BoolOpt(
        'api_down',
        default=False,
        mutable=True,
        help='Failure switch: every API call fails as an unreachable '
        'endpoint does.',
    ),
    cfg.ListOpt(
        'failed_hosts',
        default=[],
        mutable=True,
        help='Failure switch: these hosts (numbered from 1, or named '
        'HOST-N) are down: no new server lands there and the servers on '
        'them are reported in ERROR.',
    ),
    cfg.StrOpt(
        'state_file',
        help='Where the simulated site keeps its servers across restarts '
        '(a real site keeps them too). Default: '
        '$state_path/simulator-$site_name.json.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
