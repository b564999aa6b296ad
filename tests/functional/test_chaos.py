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

"""A short chaos run (tests/chaos): real sites killed and frozen under
a recorded workload, every checker figure must be zero."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))

# A fixed seed, so that a failure here replays with `tox -e chaos --
# --seed 3 --faults 10 --interval 2`.
SEED = 3


def test_short_chaos_run_finds_nothing(tmp_path):
    page = tmp_path / 'chaos.html'
    out = subprocess.run(
        [
            sys.executable,
            '-m',
            'tests.chaos.run',
            '--seed',
            str(SEED),
            '--faults',
            '10',
            '--interval',
            '2',
            '--sites',
            '5',
            '--root',
            str(tmp_path / 'sites'),
            '--html',
            str(page),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.stdout.strip(), out.stderr[-4000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    figures = {
        k: summary[k]
        for k in (
            'linearizability_violations',
            'linearizability_unknown',
            'acked_lost',
            'duplicates',
            'voters_behind_after_heal',
            'sites_diverged_after_heal',
        )
    }
    assert figures == dict.fromkeys(figures, 0), (summary, out.stderr[-4000:])
    assert summary['faults'] == 10
    assert summary['operations'] > 0
    assert summary['final_reads'] == 5
    assert out.returncode == 0
    assert '<svg' in page.read_text()
