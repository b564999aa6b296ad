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
