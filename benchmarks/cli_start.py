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

"""What ``openstack sodos`` costs to start, against OpenStackClient's own.

    python benchmarks/cli_start.py [--rounds 7]

A one-site local federation serves the API (``noauth``). In each round,
in turn, this runs ``openstack --version`` (the baseline: the client's
own start), ``openstack module list`` (a command of OpenStackClient's
own that calls no API: the start every command pays, plugins included)
and ``openstack sodos federation show`` against that API, each in a
fresh process as an operator's shell would, and measures its wall time
and the CPU time it used (user + system). The CPU time is the steadier
figure on a busy machine: the wall time also counts the time the process
waited for a core.

The last line of stdout is one JSON object: ``sodos_cli_s``,
``osc_baseline_s`` and ``osc_command_s`` (median wall times), ``ratio``
(sodos over ``--version``) and ``ratio_to_osc_command``; the same for
CPU time (``*_cpu_s``, ``ratio_cpu``, ``ratio_cpu_to_osc_command``);
``rounds`` and the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

from sodos.sim import federation
from sodos.sim import ports


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def openstack_command() -> str:
    found = shutil.which(
        'openstack', path=os.path.dirname(sys.executable)
    ) or shutil.which('openstack')
    if found is None:
        raise SystemExit(
            'python-openstackclient is not installed beside this Python: '
            'install the project with its test requirements'
        )
    return found


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``argv``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=300
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(
            '%s failed (%d): %s'
            % (' '.join(argv[:3]), done.returncode, done.stderr[-2000:])
        )
    cpu = (after.ru_utime - before.ru_utime) + (
        after.ru_stime - before.ru_stime
    )
    return wall, cpu


def wait_for_leader(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(
                url + '/v1/federation', timeout=5
            ) as r:
                if json.load(r)['federation']['leader']:
                    return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.3)
    raise SystemExit('the API at %s named no leader in %ds' % (url, timeout))


def measure(url: str, rounds: int) -> dict[str, Any]:
    command = openstack_command()
    # No cloud of the user's environment: only the API started here.
    env = {k: v for k, v in os.environ.items() if not k.startswith('OS_')}
    env.pop('SODOS_URL', None)
    baseline = [command, '--version']
    own = [command, 'module', 'list', '-f', 'value']
    sodos = [
        command,
        '--os-auth-type',
        'none',
        '--os-endpoint',
        url,
        'sodos',
        'federation',
        'show',
    ]
    # One run of each first, not counted: the entry-point cache
    # (stevedore's) is built on the first run after an install.
    commands = {'osc': baseline, 'own': own, 'sodos': sodos}
    for argv in commands.values():
        timed(argv, env)
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in commands}
    for i in range(rounds):
        for name, argv in commands.items():
            runs[name].append(timed(argv, env))
        log(
            'round %d/%d: --version %.2f s, module list %.2f s, '
            'sodos %.2f s'
            % (
                i + 1,
                rounds,
                runs['osc'][-1][0],
                runs['own'][-1][0],
                runs['sodos'][-1][0],
            )
        )

    def median(name: str, which: int) -> float:
        return statistics.median(r[which] for r in runs[name])

    sodos_s, osc_s, own_s = (median(k, 0) for k in ('sodos', 'osc', 'own'))
    sodos_cpu, osc_cpu, own_cpu = (
        median(k, 1) for k in ('sodos', 'osc', 'own')
    )
    return {
        'sodos_cli_s': round(sodos_s, 3),
        'osc_baseline_s': round(osc_s, 3),
        'osc_command_s': round(own_s, 3),
        'ratio': round(sodos_s / osc_s, 3),
        'ratio_to_osc_command': round(sodos_s / own_s, 3),
        'sodos_cli_cpu_s': round(sodos_cpu, 3),
        'osc_baseline_cpu_s': round(osc_cpu, 3),
        'osc_command_cpu_s': round(own_cpu, 3),
        'ratio_cpu': round(sodos_cpu / osc_cpu, 3),
        'ratio_cpu_to_osc_command': round(sodos_cpu / own_cpu, 3),
        'rounds': rounds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--rounds', type=int, default=7)
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error('--rounds must be at least 1')
    root = tempfile.mkdtemp(prefix='sodos-cli-start-')
    port = ports.free_port()
    settings = dict(
        federation.FAST_SIMULATED_SETTINGS,
        api={'auth_strategy': 'noauth', 'bind_port': port},
    )
    load_before = os.getloadavg()[0]
    try:
        with federation.LocalFederation(
            root,
            voter_count=1,
            roles=('knowmon', 'api'),
            settings=settings,
        ) as fed:
            fed.add_site('cli-1')
            url = 'http://127.0.0.1:%d' % port
            wait_for_leader(url)
            log('API up at %s; %d rounds' % (url, args.rounds))
            result = measure(url, args.rounds)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result['load_before'] = round(load_before, 2)
    result['load_after'] = round(os.getloadavg()[0], 2)
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
