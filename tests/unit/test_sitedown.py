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

from sodos.knowmon import sitedown


def sites(**statuses):
    return {
        name: {'status': status, 'status_changed_at': at, 'reason': 'why'}
        for name, (status, at) in statuses.items()
    }


def open_alerts(raised):
    return {args['alert_id']: dict(args, state='open') for args in raised}


def test_a_down_site_raises_one_critical_alert():
    raised, closed = sitedown.changes(
        sites(a=('up', 1.0), b=('down', 2.0)), {}
    )
    assert closed == []
    assert [(r['site'], r['kind'], r['severity']) for r in raised] == [
        ('b', 'site_down', 'critical')
    ]
    assert raised[0]['message'] == 'site b is down: why'
    again = sitedown.changes(
        sites(a=('up', 1.0), b=('down', 2.0)), open_alerts(raised)
    )
    assert again == ([], [])


def test_the_alert_closes_when_the_site_is_back_or_left():
    raised, _ = sitedown.changes(sites(b=('down', 2.0), c=('down', 2.0)), {})
    alerts = open_alerts(raised)
    alerts['x' * 32] = {'kind': 'overload', 'site': 'b'}
    assert sitedown.changes(sites(b=('up', 3.0), c=('left', 3.0)), alerts) == (
        [],
        sorted(r['alert_id'] for r in raised),
    )


def test_each_down_spell_has_its_own_alert():
    first, _ = sitedown.changes(sites(b=('down', 2.0)), {})
    second, closed = sitedown.changes(
        sites(b=('down', 9.0)), open_alerts(first)
    )
    assert [r['site'] for r in second] == ['b']
    assert second[0]['alert_id'] != first[0]['alert_id']
    assert closed == [first[0]['alert_id']]
