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

"""Gossip detection on simulated time: the protocol alone, no processes.

    python benchmarks/gossip_sim.py [--members 100] [--trials 5]
        [--probe-interval 0.3] [--loss 0.01] [--idle 300]

Runs the SWIM state machine of every member on the deterministic network
of the unit tests (10 ms one-way delay, ``--loss`` of every message lost
at random), then:

* ``detect_s``: a member is killed; simulated seconds until one watching
  member (standing for the leader) holds it dead, per trial;
* ``false_dead``: over ``--idle`` simulated seconds with no failure,
  (observer, member) pairs ever held dead: should be 0.

These are protocol numbers: what a site process adds (its scheduling on
a loaded machine, the leader's KnowMon cycle, the Raft commit) is not in
them; benchmarks/failover.py --detector gossip measures that.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

from sodos.knowmon.gossip import params as gossip_params

# The simulated network is the unit tests' own.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests.unit.knowmon_gossip import netsim  # noqa: E402


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def network(args: argparse.Namespace, seed: int) -> netsim.Network:
    params = gossip_params.with_interval(args.probe_interval)
    net = netsim.Network(netsim.names(args.members), seed=seed, params=params)
    net.observing = False
    for name in net.names:
        net.member_loss[name] = args.loss / 2
    return net


def detect(args: argparse.Namespace, seed: int) -> float:
    net = network(args, seed)
    net.run(5.0)
    watcher, victim = net.names[0], net.names[1 + seed % (args.members - 1)]
    net.kill(victim)
    killed_at = net.now
    while net.state(watcher, victim) != 'dead':
        net.step()
        if net.now - killed_at > 600:
            raise RuntimeError('%s never seen dead' % victim)
    return round(net.now - killed_at, 3)


def false_dead(args: argparse.Namespace) -> int:
    net = network(args, 1000)
    seen: set[tuple[str, str]] = set()
    while net.now < args.idle:
        net.run(1.0)
        for observer in net.names:
            seen.update((observer, m) for m in net.nodes[observer].dead())
    return len(seen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--members', type=int, default=100)
    parser.add_argument('--trials', type=int, default=5)
    parser.add_argument(
        '--probe-interval',
        type=float,
        default=gossip_params.Params.probe_interval,
        help='the probe timeout is scaled with it as the defaults are',
    )
    parser.add_argument('--loss', type=float, default=0.01)
    parser.add_argument('--idle', type=float, default=300.0)
    args = parser.parse_args()
    if args.members < 3 or args.trials < 1:
        parser.error('--members must be at least 3, --trials at least 1')
    times = []
    for trial in range(args.trials):
        times.append(detect(args, trial))
        log('trial %d: dead after %.2f s' % (trial + 1, times[-1]))
    wrong = false_dead(args)
    log('idle %.0f s: %d false dead' % (args.idle, wrong))
    print(
        json.dumps(
            {
                'members': args.members,
                'probe_interval': args.probe_interval,
                'loss': args.loss,
                'trials': args.trials,
                'detect_s': round(statistics.median(times), 3),
                'detect_s_max': max(times),
                'idle_s': args.idle,
                'false_dead': wrong,
            },
            sort_keys=True,
        )
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
