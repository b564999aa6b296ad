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

"""Which site summaries KnowMon commits."""

import pytest

from sodos.knowmon import summary


def base(**changes):
    data = {
        'api': {'ok': True, 'latency_ms': 12.0},
        'capacity': {
            'vcpu': {'total': 100.0, 'used': 10.0},
            'ram_mb': {'total': 1000.0, 'used': 0.0},
        },
        'servers': {'a/web': {'id': '1', 'status': 'ACTIVE'}},
        'images': ['cirros'],
        'collected_at': 1000.0,
    }
    data.update(changes)
    return data


def change(old, new):
    return summary.change(old, new, threshold_pct=5.0, max_age=300.0)


def test_first_report_is_committed():
    assert change(None, base()) == 'first report'


def test_latency_and_small_usage_moves_are_not_worth_an_entry():
    new = base(api={'ok': True, 'latency_ms': 80.0}, collected_at=1100.0)
    new['capacity']['vcpu']['used'] = 14.0
    assert change(base(), new) is None


@pytest.mark.parametrize(
    'new, reason',
    [
        (base(api={'ok': False, 'error': 'down'}), 'API down'),
        (
            base(servers={'a/web': {'id': '1', 'status': 'ERROR'}}),
            'servers changed',
        ),
        (base(servers={}), 'servers changed'),
        (base(images=['cirros', 'ubuntu']), 'images changed'),
        (
            base(image_details={'i1': {'name': 'cirros', 'status': 'active'}}),
            'image details changed',
        ),
        (
            base(
                capacity={
                    'vcpu': {'total': 100.0, 'used': 16.0},
                    'ram_mb': {'total': 1000.0, 'used': 0.0},
                }
            ),
            'vcpu usage moved 6.0%',
        ),
        (
            base(
                capacity={
                    'vcpu': {'total': 50.0, 'used': 10.0},
                    'ram_mb': {'total': 1000.0, 'used': 0.0},
                }
            ),
            'vcpu total changed',
        ),
        (base(collected_at=1300.0), 'refresh after 300 s'),
    ],
)
def test_significant_changes(new, reason):
    assert change(base(), new) == reason


def test_a_site_still_down_is_refreshed_only_after_max_age():
    down = base(api={'ok': False, 'error': 'x'})
    assert change(down, dict(down, collected_at=1100.0)) is None
    assert change(down, dict(down, collected_at=1400.0)) == (
        'refresh after 400 s'
    )
