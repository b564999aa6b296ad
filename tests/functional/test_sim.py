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

"""sodos-sim end to end: the quick-start scenario on real site processes.

Runs ``sodos-sim run examples/quickstart.yaml`` as a user does and checks
its report against the scenario: the crashed site's members were all
rebuilt elsewhere, nothing is placed on a site that does not run at the
end, no member runs twice, and the detection and recovery times are
there. No message bus is needed.
"""

import json
import os
import subprocess
import sys

import psutil
import pytest

from sodos.sim import scenario as scenario_mod

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
QUICKSTART = os.path.join(ROOT, 'examples', 'quickstart.yaml')


def _site_processes(root):
    """sodos-site processes whose config lives under ``root``."""
    found = []
    for proc in psutil.process_iter(['cmdline']):
        cmdline = ' '.join(proc.info['cmdline'] or [])
        if 'sodos.cmd.site' in cmdline and root in cmdline:
            found.append(proc)
    return found


def test_quickstart_end_to_end(tmp_path):
    output = tmp_path / 'out'
    result = subprocess.run(
        [
            sys.executable,
            '-m',
            'sodos.cmd.sim',
            'run',
            QUICKSTART,
            '--output',
            str(output),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert 'every member running' in result.stderr
    assert not _site_processes(str(tmp_path))
    assert (output / 'timeline.html').read_text().startswith('<!DOCTYPE')
    report = json.loads((output / 'report.json').read_text())

    scenario = scenario_mod.load(QUICKSTART)
    crash = next(e for e in scenario.events if e.action == 'crash')
    assert sorted(report['appliances']) == sorted(
        a.name for a in scenario.appliances
    )
    failure = next(f for f in report['failures'] if f['action'] == 'crash')
    assert failure['sites'] == crash.sites
    # The crashed site hosted members, and each was rebuilt elsewhere.
    assert failure['affected_members']
    assert set(failure['moved_to']) == set(failure['affected_members'])
    assert not set(failure['moved_to'].values()) & set(crash.sites)
    assert failure['detect_s'] > 0
    assert failure['recovery_s'] > 0
    assert failure['recovery_s'] >= failure['detect_s']
    assert not failure['not_recovered']

    end = report['end']
    assert end['all_running']
    assert not end['on_dead_sites']
    assert not end['doubles']
    # Every member of every appliance is placed on a site of the scenario.
    placed = end['placements']
    assert len(placed) == report['members'] == 4
    assert set(placed.values()) <= {s.name for s in scenario.sites}
    # Spread 2 is kept at the end.
    for keys in report['appliance_ids'].values():
        sites = {s for k, s in placed.items() if k.startswith(keys + '/')}
        assert len(sites) == 2
    for name, value in report['availability'].items():
        assert 0 < value <= 1, name
    assert report['cost']['before']['cost_per_hour'] > 0
    assert report['recoveries'][0]['up_s_per_site'][crash.sites[0]] > 0


def test_validate_names_the_line(tmp_path):
    bad = tmp_path / 'bad.yaml'
    text = open(QUICKSTART).read().replace('vcpus: 8', 'vcpus: 0')
    bad.write_text(text)
    result = subprocess.run(
        [sys.executable, '-m', 'sodos.cmd.sim', 'validate', str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'bad.yaml line ' in result.stderr
    assert 'capacity.vcpus: must be >= 1' in result.stderr


COMMUNITY = """
name: community-3
voters: 3
settle: 15
settings:
  simulator: {cpu_allocation_ratio: 1.0}
  knowmon: {overload_threshold: 100.0}
defaults: {capacity: {hosts: 1, vcpus: 2, ram_mb: 65536}}
owners:
  - {name: own-a}
  - {name: own-b}
  - {name: own-c, policy: {admit_owners: [own-a]}}
sites:
  - {name: a1, owner: own-a, capacity: {vcpus: 4}}
  - {name: b1, owner: own-b}
  - {name: c1, owner: own-c}
appliances:
  - {name: a-app, owner: own-a,
     members: [{name: vm, image: fake-image, flavor: m1.small}]}
  - {name: b-app, owner: own-b,
     members: [{name: vm, image: fake-image, flavor: m1.small}]}
events:
  - {at: 2, action: demand, owner: own-b, extra: 5}
  - {at: 4, action: demand, owner: own-a, extra: 4}
  - {at: 14, action: release, owner: own-b}
  - {at: 14, action: release, owner: own-a}
"""


def test_a_community_run_reports_the_owners_shares(tmp_path):
    path = tmp_path / 'community-3.yaml'
    path.write_text(COMMUNITY)
    output = tmp_path / 'out'
    result = subprocess.run(
        [sys.executable, '-m', 'sodos.cmd.sim', 'run', str(path),
         '--output', str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-4000:]
    assert 'Fair share (contended' in result.stdout
    assert '<h2>Fair share</h2>' in (output / 'timeline.html').read_text()
    community = json.loads((output / 'report.json').read_text())['community']

    owners = community['owners']
    assert {o: r['entitlement'] for o, r in owners.items()} == {
        'own-a': 0.5,
        'own-b': 0.25,
        'own-c': 0.25,
    }
    series = community['series']
    # Asked: 1 + 6 + 5 vCPUs of 8 while both demands stand.
    assert any(p['contended'] for p in series)
    assert not series[0]['contended'] and not series[-1]['contended']
    for point in series:
        used = sum(point['used'].values())
        if used:
            assert sum(point['share'].values()) == pytest.approx(1, abs=1e-3)
        # own-c admits only own-a: own-b runs on a1 and b1 at most, 6
        # vCPUs, one of them own-a's base member.
        assert point['used']['own-b'] <= 5
        assert point['used']['own-c'] == 0
    # Members were placed for the demands: the owners' shares moved.
    assert max(p['used']['own-b'] for p in series) > 1
    assert max(p['used']['own-a'] for p in series) > 1
    assert community['share_error_max'] is not None
    assert (
        community['reclaims']['reclaim_s_p95'] is None
        or (community['reclaims']['moved'])
    )
