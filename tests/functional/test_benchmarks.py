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

"""The benchmarks run and report what their README promises.

Timings and ratios depend on the machine, so only the shape of the
report is checked here.
"""

import json
import os
import subprocess
import sys

import pytest

BENCHMARKS = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), 'benchmarks'
)

KB_THROUGHPUT_KEYS = (
    'sodos_ops_s',
    'raw_ops_s',
    'ratio',
    'sodos_sync_ops_s',
    'raw_sync_ops_s',
    'ratio_sync',
    'ratio_fsync_batch',
    'ratio_fsync_always',
    'ratio_sync_fsync_batch',
    'ratio_sync_fsync_always',
    'sodos_batch_commit_p50_ms',
    'sodos_always_commit_p50_ms',
    'sodos_commit_p50_ms',
    'sodos_commit_p99_ms',
    'raw_commit_p50_ms',
    'raw_commit_p99_ms',
    'sodos_pipelined_p50_ms',
    'raw_pipelined_p50_ms',
)


def run_benchmark(name, *args, timeout=600):
    proc = subprocess.run(
        [sys.executable, os.path.join(BENCHMARKS, name), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    lines = proc.stdout.strip().splitlines()
    assert lines, 'no output; stderr:\n' + proc.stderr[-4000:]
    return json.loads(lines[-1])


def test_kb_throughput_quick_reports_every_key():
    report = run_benchmark('kb_throughput.py', '--quick')
    for key in KB_THROUGHPUT_KEYS:
        assert key in report, key
        assert isinstance(report[key], (int, float)), key
        assert report[key] > 0, (key, report[key])
    assert report['shape']['voters'] == 3
    assert report['shape']['processes'] == 3


def test_tls_cost_reports_both_modes():
    report = run_benchmark(
        'tls_cost.py', '--size-mib', '4', '--calls', '20', '--rounds', '1'
    )
    for case in ('relay_mib_s', 'control_calls_s', 'connect_per_s'):
        for mode in ('tls', 'plain'):
            assert report['%s_%s' % (case, mode)] > 0, (case, mode)
        assert report['tls_over_plain'][case] > 0, case


def test_failover_reports_every_case():
    report = run_benchmark('failover.py', '--trials', '1')
    assert report['sites'] == 3 and report['trials'] == 1
    for key in (
        'leader_loss_write_s',
        'leader_freeze_write_s',
        'site_down_detect_s',
        'site_loss_members_active_s',
    ):
        assert isinstance(report[key], float) and report[key] > 0, key


def test_gossip_sim_reports_detection_and_false_alarms():
    report = run_benchmark(
        'gossip_sim.py', '--members', '10', '--trials', '2', '--idle', '20'
    )
    assert report['members'] == 10 and report['trials'] == 2
    assert report['detect_s'] > 0
    assert report['false_dead'] == 0


def test_planner_reports_speed_and_quality():
    report = run_benchmark(
        'planner.py',
        '--appliances',
        '300',
        '--sites',
        '20',
        '--small-appliances',
        '30',
        '--small-sites',
        '5',
        '--instances',
        '3',
        '--whatif-instances',
        '1',
    )
    assert report['members_placed'] == 600
    for key in ('plan_10k_x_100_s', 'quality_ratio', 'optimum_objective'):
        assert isinstance(report[key], float) and report[key] > 0, key
    # The optimum is a lower bound of every feasible plan.
    assert report['quality_ratio'] >= 0.999
    assert report['suite_instances'] == 3
    for key in ('placed_ratio_min', 'placed_ratio_mean', 'weighted_ratio_min'):
        # The exact placement is an upper bound of the planner's.
        assert 0 < report[key] <= 1.0, key
    assert report['whatif_questions'] > 0
    assert isinstance(report['whatif_false_unplaceable'], int)


def test_cli_start_reports_both_commands():
    report = run_benchmark('cli_start.py', '--rounds', '1')
    for key in (
        'sodos_cli_s',
        'osc_baseline_s',
        'ratio',
        'sodos_cli_cpu_s',
        'osc_baseline_cpu_s',
        'ratio_cpu',
        'osc_command_s',
        'ratio_to_osc_command',
        'ratio_cpu_to_osc_command',
    ):
        assert report[key] > 0, (key, report)
    assert report['rounds'] == 1
    assert report['ratio'] == pytest.approx(
        report['sodos_cli_s'] / report['osc_baseline_s'], rel=0.01
    )


def test_scale_members_quick_reports_the_curve():
    report = run_benchmark('scale_members.py', '--quick')
    assert report['members'] == 20
    assert [p['members'] for p in report['curve']] == [10, 20]
    for point in report['curve']:
        assert point['connected'] == point['members']
        assert point['entries'] > 0 and point['failed_writes'] == 0
        # Every member applied every entry, after it was committed.
        assert point['missing'] == 0
        assert 0 <= point['lag_p50_s'] <= point['lag_p99_s']
        assert point['leader_cpu_pct'] > 0
        # Every other member saw the killed ones dead.
        seen, watchers = point['detect_seen_by'].split('/')
        assert seen == watchers
        assert 0 < point['detect_s'] <= point['detect_s_max']
    last = report['curve'][-1]
    for key in ('leader_cpu_pct', 'lag_p99_s', 'detect_s'):
        assert report[key] == last[key], key
