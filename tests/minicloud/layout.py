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

"""Where a site keeps its files, which ports it listens on, its names.

A site owns a block of five ports from its port base, a directory under
the root, a RabbitMQ vhost and six MariaDB databases (seven with a real
neutron-server). The vhost and the database names carry the site name
only, not the root: two sites with the same name under different roots
would share them, so do not.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import socket

from tests.minicloud import errors

HOST = '127.0.0.1'

# Offsets from the port base. NEUTRON is the real neutron-server or the
# stub, whichever the site runs (see neutron.py).
KEYSTONE = 0
GLANCE = 1
PLACEMENT = 2
NOVA = 3
NEUTRON = 4
PORT_COUNT = 5
PORT_NAMES = ('keystone', 'glance', 'placement', 'nova-api', 'neutron')

DATABASES = (
    'keystone',
    'glance',
    'placement',
    'nova_api',
    'nova_cell0',
    'nova_cell1',
)
# Only a site with a real neutron-server has this one.
NEUTRON_DATABASE = 'neutron'

# MariaDB names stop at 64 characters and '<site>_nova_cell0' adds 11;
# a short lowercase name also makes a clean vhost, region and host name.
_NAME = re.compile(r'^[a-z][a-z0-9-]{0,31}$')


def check_name(name: str) -> None:
    if not _NAME.match(name):
        raise errors.MinicloudError(
            'input',
            'bad site name %r: use 1-32 characters a-z, 0-9 and -, '
            'starting with a letter' % name,
        )


def check_port_base(port_base: int) -> None:
    if not 1024 <= port_base <= 65535 - PORT_COUNT:
        raise errors.MinicloudError(
            'input',
            'bad port base %d: use 1024-%d' % (port_base, 65535 - PORT_COUNT),
        )


@dataclasses.dataclass(frozen=True)
class Layout:
    name: str
    root: str
    port_base: int

    @property
    def dir(self) -> str:
        return os.path.join(self.root, self.name)

    def path(self, *parts: str) -> str:
        return os.path.join(self.dir, *parts)

    def etc(self, *parts: str) -> str:
        return self.path('etc', *parts)

    def data(self, *parts: str) -> str:
        return self.path('data', *parts)

    def log(self, name: str) -> str:
        return self.path('log', name + '.log')

    def pidfile(self, name: str) -> str:
        return self.path('run', name + '.pid')

    @property
    def state_file(self) -> str:
        return self.path('site.json')

    def port(self, offset: int) -> int:
        return self.port_base + offset

    def url(self, offset: int, suffix: str = '') -> str:
        return 'http://%s:%d%s' % (HOST, self.port(offset), suffix)

    @property
    def keystone_url(self) -> str:
        return self.url(KEYSTONE, '/v3')

    @property
    def glance_url(self) -> str:
        return self.url(GLANCE)

    @property
    def placement_url(self) -> str:
        return self.url(PLACEMENT)

    @property
    def nova_url(self) -> str:
        return self.url(NOVA, '/v2.1')

    @property
    def neutron_url(self) -> str:
        return self.url(NEUTRON)

    @property
    def vhost(self) -> str:
        return self.name

    def database(self, kind: str) -> str:
        return '%s_%s' % (self.name.replace('-', '_'), kind)

    @property
    def compute_host(self) -> str:
        return self.name + '-compute1'


def _listening(port: int) -> bool:
    # SO_REUSEADDR: a port that only has connections in TIME_WAIT (a site
    # just stopped) binds, one with a listener does not.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def check_ports_free(layout: Layout) -> None:
    for offset, what in enumerate(PORT_NAMES):
        port = layout.port(offset)
        if _listening(port):
            raise errors.MinicloudError(
                'input',
                'port %d (%s = port base %d + %d) is in use on %s'
                % (port, what, layout.port_base, offset, HOST),
            )


def free_port_base(low: int = 20000, high: int = 32000) -> int:
    """A port base whose whole block of ports is free on loopback now.

    Below Linux's ephemeral range (32768 and up): an outgoing connection
    of a starting site could otherwise take one of the ports before the
    service that owns it binds.
    """
    rng = random.SystemRandom()
    for _ in range(200):
        base = rng.randrange(low, high - PORT_COUNT, 10)
        if not any(_listening(base + i) for i in range(PORT_COUNT)):
            return base
    raise RuntimeError('no %d consecutive free ports on loopback' % PORT_COUNT)


def free_port_bases(count: int) -> list[int]:
    """``count`` port bases as :func:`free_port_base`, whose blocks do
    not overlap (for sites started side by side)."""
    bases: list[int] = []
    while len(bases) < count:
        base = free_port_base()
        if all(abs(base - b) >= 10 for b in bases):
            bases.append(base)
    return bases
