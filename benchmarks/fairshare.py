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

"""Fair share in a community cloud, measured in sodos-sim.

    python benchmarks/fairshare.py [--scenario examples/community-10.yaml]
        [--keep DIR]

Plays the scenario (ten owners of unequal contributions whose demands
exceed the federation for most of the run) on real site processes, as
``sodos-sim run`` does, and reports from its samples
(sodos.sim.fairness, where the words are defined):

* ``share_error_max``: the largest gap between an owner's share of the
  used vCPUs and its fair share (its entitlement, when it asks at least
  that), averaged over the contended samples; target <= 0.05;
* ``reclaim_s_p95``: 95th percentile of the time from an owner's demand
  to its site free of a guest a reclaim moved; target <= 60; null, with
  ``reclaim_note``, when no reclaim happened;
* ``starved_owners``: how many owners asked for more than they held and
  got less than half their fair share over the contended period; target 0.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from typing import Any

from sodos.sim import runner as runner_mod
from sodos.sim import scenario as scenario_mod
from sodos.sim import text

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SCENARIO = os.path.join(ROOT, 'examples', 'community-10.yaml')
TARGETS = {'share_error_max': 0.05, 'reclaim_s_p95': 60.0, 'starved_owners': 0}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(report: dict[str, Any]) -> dict[str, Any]:
    community = report['community']
    found = community['reclaims']
    result: dict[str, Any] = {
        'scenario': report['scenario'],
        'share_error_max': community['share_error_max'],
        'reclaim_s_p95': found['reclaim_s_p95'],
        'starved_owners': len(community['starved_owners']),
        'starved': community['starved_owners'],
        'reclaims': len(found['moved']),
        'reclaims_stopped': len(found['stopped']),
        'contended_s': community['contended_s'],
        'capacity_vcpus': community['capacity_vcpus'],
        'owners': {
            owner: {
                k: row[k] for k in ('entitlement', 'share_mean', 'share_error')
            }
            for owner, row in community['owners'].items()
        },
        'targets': TARGETS,
    }
    if found['reclaim_s_p95'] is None:
        result['reclaim_note'] = (
            'no reclaim happened: no guest was moved by a reclaim (a '
            "placement whose reason starts with 'reclaim:') or stopped at "
            'the end of its notice while the run was sampled'
        )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--scenario', default=DEFAULT_SCENARIO)
    parser.add_argument(
        '--keep', metavar='DIR', help='write report.json here and keep it'
    )
    args = parser.parse_args()
    scenario = scenario_mod.load(args.scenario)
    if not scenario.owners:
        raise SystemExit('%s names no owners' % args.scenario)
    workdir = args.keep or tempfile.mkdtemp(prefix='sodos-fairshare-')
    started = time.monotonic()
    try:
        report = runner_mod.Runner(scenario, workdir, log).run()
        if args.keep:
            with open(os.path.join(workdir, 'report.json'), 'w') as f:
                json.dump(report, f, indent=1, sort_keys=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    log(text.summary(report))
    result = measure(report)
    result['wall_s'] = round(time.monotonic() - started, 1)
    print(json.dumps(result, sort_keys=True))
    return 130 if report.get('interrupted') else 0


if __name__ == '__main__':
    sys.exit(main())
