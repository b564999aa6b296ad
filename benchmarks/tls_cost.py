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

"""What mutual TLS costs the image relay and the control channel.

    python benchmarks/tls_cost.py [--size-mib 256] [--calls 300]
        [--rounds 3]

In this process, on loopback, each case twice: over mutual TLS (as sites
run) and in plaintext (``[raft]insecure_dev_mode``, the baseline),
alternating for ``--rounds`` rounds:

``relay``
    the image relay serves ``--size-mib`` MiB from memory (no Glance, so
    that the transport alone is measured) to its client
    (:mod:`sodos.exec.images.relay_client`), which reads it all: MiB/s.
``control``
    ``--calls`` control-channel requests on one connection (a heartbeat's
    life): requests per second.
``connect``
    ``--calls`` / 10 requests on a connection each (``sodos-manage
    federation status``, a join): connections per second, handshake
    included.

The last line of stdout is one JSON object: the medians per case and
mode, and ``tls_over_plain`` = TLS figure / plaintext figure per case.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos import tls as sodos_tls
from sodos.exec.images import relay as image_relay
from sodos.exec.images import relay_client
from sodos.kb.raft import control
from sodos.sim import certs

MIB = 1024 * 1024
IMAGE = '5f0b6d3c-9a43-4e2a-9d5e-3c1f1a1d2e3f'
CHUNK = os.urandom(MIB)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class MemoryImages:
    """A driver with one image of ``size`` bytes, served from memory."""

    def __init__(self, size: int) -> None:
        self.size = size

    def open_image(self, image_id: str) -> tuple[dict[str, Any], Any]:
        def chunks() -> Iterator[bytes]:
            left = self.size
            while left > 0:
                yield CHUNK[: min(left, MIB)]
                left -= MIB

        return {'size': self.size}, chunks()


def make_conf(root: str, tls: dict[str, str] | None) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    conf.set_override('site_name', 'bench')
    conf.set_override('state_path', root)
    conf.set_override('password', 'bench-password', 'raft')
    if tls is None:
        conf.set_override('insecure_dev_mode', True, 'raft')
    for name, value in (tls or {}).items():
        conf.set_override(name, value, 'raft')
    return conf


def relay_mib_s(conf: cfg.ConfigOpts, size: int) -> float:
    relay = image_relay.Relay(conf, MemoryImages(size))  # type: ignore
    relay.start()
    try:
        url = image_relay.signed_url(conf, relay.url, IMAGE, 'bench')
        source = relay_client.source(conf, url, 'bench')
        started = time.monotonic()
        done = 0
        while True:
            data = source.read(MIB)
            if not data:
                break
            done += len(data)
        took = time.monotonic() - started
        source.close()
    finally:
        relay.stop()
    if done != size:
        raise RuntimeError('read %d of %d bytes' % (done, size))
    return size / MIB / took


def control_rates(
    credentials: control.Credentials, calls: int
) -> tuple[float, float]:
    server = control.ControlServer(
        ('127.0.0.1', 0), credentials, {'echo': lambda args: args}
    )
    server.start()
    address = '127.0.0.1:%d' % (server.server_address[1] - 1)
    try:
        client = control.ControlClient(address, credentials)
        client.call('echo', n=0)  # connected: time the requests only
        started = time.monotonic()
        for n in range(calls):
            client.call('echo', n=n)
        per_call = calls / (time.monotonic() - started)
        client.close()
        fresh = max(1, calls // 10)
        started = time.monotonic()
        for n in range(fresh):
            control.call(address, credentials, 'echo', n=n)
        per_connection = fresh / (time.monotonic() - started)
    finally:
        server.stop()
    return per_call, per_connection


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size-mib', type=int, default=256)
    parser.add_argument('--calls', type=int, default=300)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()
    root = tempfile.mkdtemp(prefix='sodos-tls-cost-')
    tls_options = certs.LocalCA(os.path.join(root, 'ca')).issue('bench')
    confs = {
        'tls': make_conf(root, tls_options),
        'plain': make_conf(root, None),
    }
    creds = {
        'tls': control.credentials(
            'bench-password',
            sodos_tls.from_conf(confs['tls']),
        ),
        'plain': control.credentials('bench-password', None),
    }
    figures: dict[str, dict[str, list[float]]] = {
        case: {'tls': [], 'plain': []}
        for case in ('relay_mib_s', 'control_calls_s', 'connect_per_s')
    }
    for n in range(args.rounds):
        for mode in ('plain', 'tls') if n % 2 == 0 else ('tls', 'plain'):
            mib_s = relay_mib_s(confs[mode], args.size_mib * MIB)
            calls, connects = control_rates(creds[mode], args.calls)
            figures['relay_mib_s'][mode].append(mib_s)
            figures['control_calls_s'][mode].append(calls)
            figures['connect_per_s'][mode].append(connects)
            log(
                'round %d %-5s relay %.0f MiB/s, control %.0f calls/s, '
                '%.0f connections/s' % (n + 1, mode, mib_s, calls, connects)
            )
    result: dict[str, Any] = {
        'benchmark': 'tls_cost',
        'size_mib': args.size_mib,
        'calls': args.calls,
        'rounds': args.rounds,
        'tls_over_plain': {},
    }
    for case, modes in figures.items():
        for mode, values in modes.items():
            result['%s_%s' % (case, mode)] = round(
                statistics.median(values), 1
            )
        result['tls_over_plain'][case] = round(
            statistics.median(modes['tls'])
            / statistics.median(modes['plain']),
            3,
        )
    print(json.dumps(result))
    return 0


if __name__ == '__main__':
    sys.exit(main())
