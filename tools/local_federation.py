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

Each site is a real ``sodos-site`` process (all roles, the simulator
Exec driver), talking Raft over TCP on 127.0.0.1, and serves the REST
API without authentication and the live status page, whose URL is
printed: open it in a browser to watch the demo (no internet needed).
The script waits until the federation has formed and shows it; asks for
two appliances spread over two sites each and shows where the planner
put them; crashes a site hosting members (SIGKILL) and shows the failure
detected and its members rebuilt elsewhere; and stops everything it
started (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import uuid

import prettytable

from sodos.kb.raft import report
from sodos.sim import federation
from sodos.sim import statuspage

# Short loops, so that the demo moves at a human pace (seconds).
DEMO_SETTINGS = {
    'exec': {'loop_interval': 0.3, 'monitor_interval': 1.0},
    'simulator': {'boot_seconds': 2.0},
    'analyseplan': {'loop_interval': 0.5},
}
APPLIANCES = [
    {
        'name': name,
        'priority': priority,
        'members': [
            {
                'name': 'web',
                'image': 'fake-image',
                'flavor': 'm1.small',
                'count': 2,
            }
        ],
        'constraints': {'spread': 2},
    }
    for name, priority in (('shop', 80), ('blog', 20))
]


def _show(fed: federation.LocalFederation, title: str) -> None:
    print('\n== %s ==' % title)
    print(report.as_text(fed.report()))


def _members(client) -> list[tuple[str, str, str, str]]:
    """(appliance, member, site, state) for every placed member."""
    names = {
        a: (r.get('spec') or {}).get('name', a[:8])
        for a, r in client.read('appliances').items()
    }
    monitoring = client.read('monitoring')
    rows = []
    for key, placed in sorted(client.read('placements').items()):
        summary = (monitoring.get(placed['site']) or {}).get('summary') or {}
        entry = (summary.get('servers') or {}).get(key) or {}
        rows.append(
            (
                names.get(placed['appliance_id'], '?'),
                placed['member'],
                placed['site'],
                entry.get('status', 'building'),
            )
        )
    return sorted(rows)


def _show_members(client, title: str) -> None:
    table = prettytable.PrettyTable(['appliance', 'member', 'site', 'state'])
    table.align = 'l'
    for row in _members(client):
        table.add_row(row)
    print('\n== %s ==' % title)
    print(table.get_string())


def _wait_active(client, count: int, timeout: float = 60.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        rows = _members(client)
        if len(rows) == count and all(r[3] == 'ACTIVE' for r in rows):
            return time.monotonic() - started
        time.sleep(0.2)
    raise AssertionError('appliance members not ACTIVE in %.0f s' % timeout)


def _demo_appliances(fed, client, sites: int) -> None:
    """Place the appliances, crash a site hosting members, show both."""
    from sodos.domain import appliance

    for spec in APPLIANCES:
        client.propose(
            'appliance.put',
            {
                'appliance_id': uuid.uuid4().hex,
                'spec': appliance.validate(spec),
            },
        )
    count = 2 * len(APPLIANCES)
    took = _wait_active(client, count)
    _show_members(client, 'appliances placed (all ACTIVE in %.1f s)' % took)
    leader = client.status().leader
    hosting = {row[2] for row in _members(client)}
    victim = next(
        (
            s
            for s in fed.sites.values()
            if s.name in hosting and s.address != leader
        ),
        None,
    )
    if victim is None or sites < 3:
        return
    print('\nCrashing %s (SIGKILL), which hosts members ...' % victim.name)
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
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        rows = _members(client)
        if all(r[2] != victim.name and r[3] == 'ACTIVE' for r in rows):
            break
        time.sleep(0.2)
    _show_members(
        client,
        'members rebuilt elsewhere %.1f s after the crash'
        % (time.monotonic() - started),
    )


def _add_site(fed: federation.LocalFederation) -> str:
    """A new site serving the API and the status page: its URL."""
    site = fed.add_site(start=False)
    url = statuspage.serve(site)
    site.start()
    return url


def run(args: argparse.Namespace) -> int:
    root = args.dir or tempfile.mkdtemp(prefix='sodos-federation-')
    print('Starting %d sites under %s ...' % (args.sites, root))
    with federation.LocalFederation(
        root,
        voter_count=args.voters,
        settings=DEMO_SETTINGS,
        roles=('knowmon', 'exec', 'analyseplan', 'api'),
    ) as fed:
        pages = [_add_site(fed)]
        fed.wait(lambda r: r['leader'], 30, 'the first site to lead')
        for _ in range(args.sites - 1):
            pages.append(_add_site(fed))
        print('Status page (any site serves it): %s' % pages[0])
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
        client = fed.client_member('demo-client')
        try:
            _demo_appliances(fed, client, args.sites)
            _show(fed, 'federation now')
        finally:
            client.stop()
        if args.keep_running:
            print('\nRunning; logs under %s. Ctrl-C stops every site.' % root)
            print('Status page: %s' % ', '.join(pages))
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
