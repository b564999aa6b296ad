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

"""Run a local federation of sodos sites on loopback and show it.

    tox -e federation                 # 3 sites, shown, then stopped
    tox -e federation -- --sites 5 --keep-running

Each site is a real ``sodos-site`` process (all roles), talking Raft over
TCP on 127.0.0.1. The script waits until the federation has formed, shows
its status, crashes one site to show the failure being detected, and stops
everything it started (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time

from sodos.kb.raft import report
from sodos.testing import federation


def _show(fed: federation.LocalFederation, title: str) -> None:
    print('\n== %s ==' % title)
    print(report.as_text(fed.report()))


def run(args: argparse.Namespace) -> int:
    root = args.dir or tempfile.mkdtemp(prefix='sodos-federation-')
    print('Starting %d sites under %s ...' % (args.sites, root))
    with federation.LocalFederation(root, voter_count=args.voters) as fed:
        first = fed.add_site()
        fed.wait(lambda r: r['leader'], 30, 'the first site to lead')
        for _ in range(args.sites - 1):
            fed.add_site()
        wanted = min(args.voters, args.sites)
        fed.wait(
            lambda r: (
                len(r['members']) == args.sites
                and sum(m['role'] == 'voter' for m in r['members']) == wanted
            ),
            60,
            'every site to join and %d voters' % wanted,
        )
        _show(fed, 'federation formed')
        victim = list(fed.sites.values())[-1]
        if victim is not first and args.sites > 1:
            print('\nCrashing %s (SIGKILL) ...' % victim.name)
            started = time.monotonic()
            victim.kill()
            fed.wait(
                lambda r: any(
                    m['site'] == victim.name and m['status'] == 'down'
                    for m in r['members']
                ),
                30,
                '%s to be marked down' % victim.name,
            )
            print(
                '%s marked down after %.1f s'
                % (victim.name, time.monotonic() - started)
            )
            _show(fed, 'after the crash')
        if args.keep_running:
            print('\nRunning; logs under %s. Ctrl-C stops every site.' % root)
            try:
                while True:
                    time.sleep(1)
            except KeyboardInterrupt:
                pass
        codes = fed.stop_all()
    print(
        '\nStopped: %s'
        % ', '.join('%s=%s' % (name, code) for name, code in codes.items())
    )
    if not args.dir and not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--sites', type=int, default=3)
    parser.add_argument('--voters', type=int, default=3, choices=[1, 3, 5, 7])
    parser.add_argument('--dir', help='keep the sites here (default: temp)')
    parser.add_argument(
        '--keep',
        action='store_true',
        help='keep the temporary directory and logs',
    )
    parser.add_argument('--keep-running', action='store_true')
    args = parser.parse_args()
    if args.sites < 1:
        parser.error('--sites must be at least 1')
    try:
        return run(args)
    except AssertionError as exc:
        print('local federation did not come up: %s' % exc, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main())
