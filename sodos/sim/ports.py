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

"""Loopback addresses for the sites and members of a local federation.

A member listens on its Raft port, on the next one (control channel) and,
for gossip failure detection, on UDP two above its Raft port
(``[knowmon]gossip_port_offset``): each needs three free consecutive ports.
"""

from __future__ import annotations

import random
import socket

EPHEMERAL_PORTS = '/proc/sys/net/ipv4/ip_local_port_range'


def _free(port: int, kind: int = socket.SOCK_STREAM) -> bool:
    with socket.socket(socket.AF_INET, kind) as sock:
        try:
            sock.bind(('127.0.0.1', port))
        except OSError:
            return False
    return True


def free_address(low: int | None = None, high: int | None = None) -> str:
    """A loopback HOST:PORT whose PORT and PORT+1 (TCP) and PORT+2 (UDP)
    are free now, below the kernel's ephemeral range by default
    (:func:`listen_ports`).

    Ports are picked four apart from ``low``, so one address's gossip
    port is never another's Raft or control port.
    """
    if low is None or high is None:
        low, high = listen_ports()
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(low, high - 2, 4)
        if (
            _free(port)
            and _free(port + 1)
            and _free(port + 2, socket.SOCK_DGRAM)
        ):
            return '127.0.0.1:%d' % port
    raise RuntimeError('no three consecutive free ports on loopback')


def free_port() -> int:
    """A free loopback port for a single listener (an API, a page, a
    metrics endpoint), taken from :func:`free_address`."""
    return int(free_address().rsplit(':', 1)[1])


def listen_ports() -> tuple[int, int]:
    """Ports for the sites to listen on, below the kernel's ephemeral
    range: a hundred sites open thousands of outgoing connections, whose
    local ports would otherwise take the port of a site that has not
    started yet, of one that a crash event stopped, or the Raft port of
    a read-only member (which does not listen on it) that is promoted."""
    try:
        with open(EPHEMERAL_PORTS, encoding='ascii') as f:
            first = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 20000, 40000
    if first < 12000:
        return 20000, 40000
    return 10000, first - 2
