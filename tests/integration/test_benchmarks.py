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

"""benchmarks/exec_actions.py runs on a real site and reports its keys.

Timings depend on the machine: only the shape of the report is checked.
"""

import json
import os
import subprocess
import sys

import pytest

from tests.integration.conftest import SITE_NAMES

BENCHMARKS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), 'benchmarks'
)


def test_exec_actions_reports_sodos_direct_and_ratio(minicloud_sites):
    site = minicloud_sites[SITE_NAMES[1]]
    proc = subprocess.run(
        [
            sys.executable,
            os.path.join(BENCHMARKS, 'exec_actions.py'),
            '--servers',
            '2',
            '--rounds',
            '1',
            '--site',
            site.name,
            '--root',
            site.layout.root,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    for key in ('sodos_s', 'direct_s', 'overhead_ratio'):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report['servers'] == 2
    assert len(report['sodos_runs_s']) == len(report['direct_runs_s']) == 1


def _run(script, *args):
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, script), *args],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_image_copy_reports_both_rates_and_their_ratio(minicloud_sites):
    first = minicloud_sites[SITE_NAMES[0]]
    report = _run(
        'image_copy.py',
        '--size-mib',
        '4',
        '--rounds',
        '1',
        '--sites',
        '%s,%s' % (SITE_NAMES[0], SITE_NAMES[1]),
        '--root',
        first.layout.root,
    )
    for key in ('sodos_mib_s', 'local_upload_mib_s', 'ratio'):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report['size_mib'] == 4
    assert 1 <= report['fanout_rounds_100'] <= 9


def test_identity_sync_reports_convergence_times(minicloud_sites):
    sites = [
        '%s:%s' % (name, minicloud_sites[name].layout.root)
        for name in SITE_NAMES
    ]
    report = _run(
        'identity_sync.py',
        '--changes',
        '4',
        '--baseline',
        '1',
        *[arg for site in sites for arg in ('--site', site)],
    )
    assert 0 < report['converge_p50_s'] <= report['converge_max_s']


def test_tenant_failover_reports_recovery_against_a_direct_boot(
    minicloud_sites,
):
    # It kills one of the session's sites and rebuilds it afresh.
    root = minicloud_sites[SITE_NAMES[0]].layout.root
    report = _run(
        'tenant_failover.py', '--root', root, '--sites', ','.join(SITE_NAMES)
    )
    for key in ('sodos_recovery_s', 'direct_boot_s'):
        assert isinstance(report[key], float) and report[key] > 0, key
    assert report['recovery_overhead_s'] == pytest.approx(
        report['sodos_recovery_s'] - report['direct_boot_s'], abs=0.02
    )
    assert report['rebuilt_at'] != report['killed_site']
    states = {name: minicloud_sites[name].status() for name in SITE_NAMES}
    assert all(all(pids.values()) for pids in states.values()), states
