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

"""The accessors of the KB's shared entries: empty where the KB has
nothing, the entry as written where it has."""

from sodos.kb import shapes


def test_a_site_without_a_report_has_an_empty_summary():
    assert shapes.summary({}, 'a') == {}
    assert shapes.summary({'a': None}, 'a') == {}
    assert shapes.summary({'a': {'reported_at': 1.0}}, 'a') == {}
    assert shapes.summary_of(None) == {}
    assert shapes.servers(shapes.summary({}, 'a')) == {}
    assert shapes.api(shapes.summary({}, 'a')) == {}


def test_a_reported_summary_is_read_as_written():
    summary = {
        'api': {'ok': True, 'latency_ms': 3.0},
        'servers': {'app/web-0': {'id': 's1', 'status': 'ACTIVE'}},
        'collected_at': 10.0,
    }
    monitoring = {'a': {'summary': summary, 'reported_at': 11.0}}
    assert shapes.summary(monitoring, 'a') is summary
    assert shapes.servers(summary)['app/web-0']['id'] == 's1'
    assert shapes.api(summary)['ok'] is True


def test_sites_and_placements():
    sites = {'a': {'status': 'up'}, 'b': {'status': 'down'}}
    assert shapes.is_up(sites, 'a')
    assert not shapes.is_up(sites, 'b')
    assert not shapes.is_up(sites, 'nowhere')
    assert shapes.profile({'info': {'profile': {'region': 'r'}}}) == {
        'region': 'r'
    }
    assert shapes.profile({}) == {}
    assert shapes.placement_info({'site': 'a'}) == {}
    assert shapes.placement_info({'info': {'flavor': 'f'}})['flavor'] == 'f'
