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

"""The accounting's arithmetic, and which members it counts."""

import pytest

from sodos.domain import accounting
from sodos.knowmon import accounting as sampler
from tests.unit.analyseplan import kbviews
from tests.unit.community.views import ORG_A
from tests.unit.community.views import ORG_B
from tests.unit.community.views import PROJECT
from tests.unit.community.views import site
from tests.unit.community.views import spec
from tests.unit.community.views import view

H = accounting.HOUR
H0 = 1000 * H  # an hour's start
A = 'a' * 32
B = 'b' * 32
C = 'c' * 32


def run(site_name='s1', owner=ORG_A, project='p', vcpus=2.0, ram_mb=4096.0):
    return accounting.Running(site_name, owner, project, vcpus, ram_mb)


def test_spans_cut_the_time_at_the_hours():
    assert accounting.spans(H0 + 1800, H0 + 1800) == []
    assert accounting.spans(H0 + 10, H0 + 70) == [(H0, 60.0)]
    assert accounting.spans(H0 - 600, H0 + 2 * H + 300) == [
        (H0 - H, 600.0),
        (H0, H),
        (H0 + H, H),
        (H0 + 2 * H, 300.0),
    ]


def test_the_first_look_counts_nothing():
    assert accounting.accrue([run()], None, H0, 600.0) == {}


def test_usage_since_the_last_look_per_site_owner_project():
    found = accounting.accrue(
        [run(), run(), run('s2', ORG_B, 'q', vcpus=1.0, ram_mb=512.0)],
        H0,
        H0 + 1800,
        7200.0,
    )
    assert found == {
        # Two members of the same project at s1: added up.
        (H0, 's1', ORG_A, 'p'): {
            'vcpu_hours': 2.0,
            'ram_gb_hours': 4.0,
            'member_hours': 1.0,
        },
        (H0, 's2', ORG_B, 'q'): {
            'vcpu_hours': 0.5,
            'ram_gb_hours': 0.25,
            'member_hours': 0.5,
        },
    }


def test_usage_across_an_hour_goes_to_both_hours():
    found = accounting.accrue([run(vcpus=4.0)], H0 - 900, H0 + 900, 7200.0)
    assert found[(H0 - H, 's1', ORG_A, 'p')]['vcpu_hours'] == 1.0
    assert found[(H0, 's1', ORG_A, 'p')]['vcpu_hours'] == 1.0


def test_a_gap_longer_than_max_gap_is_not_billed():
    found = accounting.accrue([run()], H0 - 10 * H, H0 + 600, 600.0)
    assert list(found) == [(H0, 's1', ORG_A, 'p')]
    assert found[(H0, 's1', ORG_A, 'p')]['member_hours'] == pytest.approx(
        600 / H
    )


def test_max_gap_must_be_positive():
    with pytest.raises(ValueError, match='max_gap'):
        accounting.accrue([], H0, H0 + 1, 0.0)


def test_totals_sum_per_the_fields_asked():
    rows = [
        dict(owner=ORG_A, project='p', site='s1', vcpu_hours=1.0,
             ram_gb_hours=2.0, member_hours=0.5),
        dict(owner=ORG_A, project='p2', site='s2', vcpu_hours=3.0,
             ram_gb_hours=1.0, member_hours=0.5),
        dict(owner=ORG_B, project='q', site='s1', vcpu_hours=0.25,
             ram_gb_hours=0.0, member_hours=0.25),
    ]  # fmt: skip
    assert accounting.totals(rows, ['owner']) == [
        dict(owner=ORG_A, vcpu_hours=4.0, ram_gb_hours=3.0, member_hours=1.0),
        dict(owner=ORG_B, vcpu_hours=0.25, ram_gb_hours=0.0,
             member_hours=0.25),
    ]  # fmt: skip
    assert [r['site'] for r in accounting.totals(rows, ['site'])] == [
        's1',
        's2',
    ]
    assert accounting.totals([], ['owner']) == []


def _servers(*keys, status='ACTIVE'):
    return {key: {'id': key, 'status': status} for key in keys}


def test_a_member_counts_once_where_it_is_placed_and_active():
    placements = kbviews.placed(A, 'web-0', 's1', flavor='m1.large')
    placements.update(kbviews.placed(B, 'web-0', 's2', flavor='m1.small'))
    placements.update(kbviews.placed(C, 'web-0', 's3', flavor='m1.small'))
    placements.update(kbviews.placed(C, 'web-1', 's1', flavor='m1.small'))
    kb = view(
        [
            # s1 also runs a server for B's member, placed at s2 (the
            # old copy of a move): counted at s2 only.
            site('s1', ORG_A, servers=_servers(A + '/web-0', B + '/web-0')),
            site('s2', ORG_B, servers=_servers(B + '/web-0')),
            # s3 is down: its last report is not trusted.
            site('s3', ORG_B, status='down', servers=_servers(C + '/web-0')),
        ],
        {A: spec(ORG_A), B: spec(ORG_B), C: spec(None)},
        placements=placements,
    )
    # C's web-1 is placed at s1 but not ACTIVE there (not reported).
    found = sampler.running(kb.get)
    assert found == [
        accounting.Running('s1', ORG_A, PROJECT[ORG_A], 4.0, 8192.0),
        accounting.Running('s2', ORG_B, PROJECT[ORG_B], 1.0, 2048.0),
    ]


def test_the_service_projects_members_are_of_no_owner():
    placements = kbviews.placed(C, 'web-0', 's1', flavor='m1.tiny')
    kb = view(
        [site('s1', ORG_A, servers=_servers(C + '/web-0'))],
        {C: spec(None)},
        placements=placements,
    )
    assert sampler.running(kb.get) == [
        accounting.Running('s1', '', '', 1.0, 512.0)
    ]
