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

from sodos.kb.raft import report


def site(address, region, role):
    return {
        'address': address,
        'role': role,
        'status': 'up',
        'info': {'profile': {'region': region}},
    }


def status():
    sites = {
        'eu-1': site('10.0.0.1:7700', 'eu', 'voter'),
        'eu-2': site('10.0.0.2:7700', 'eu', 'voter'),
        'us-1': site('10.0.0.3:7700', 'us', 'voter'),
    }
    return {
        'member': {
            'site': 'eu-1',
            'address': '10.0.0.1:7700',
            'role': 'voter',
            'leader': '10.0.0.1:7700',
            'leader_site': 'eu-1',
            'term': 2,
            'has_quorum': True,
            'commit_index': 9,
            'voters': [
                {'address': s['address'], 'site': n, 'connected': True}
                for n, s in sorted(sites.items())
            ],
        },
        'federation': {'id': 'f'},
        'sites': sites,
        'liveness': {},
    }


def test_the_report_says_where_the_voters_are():
    found = report.summarise(status(), status())
    assert found['failure_domains'] == {
        'voter_regions': {'eu': ['eu-1', 'eu-2'], 'us': ['us-1']},
        'regions': 2,
        'majority_region': 'eu',
        'warning': '3 voters but only 2 region(s): an outage of region eu '
        'takes the quorum with it',
    }
    text = report.as_text(found)
    assert 'Regions:     eu (eu-1, eu-2), us (us-1)' in text
    assert 'Warning:     3 voters but only 2 region(s)' in text
