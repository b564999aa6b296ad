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

"""The image scheduler as a pure function: where an image should be, who
serves it, retries, burnt IDs, deletion, and fan-out in rounds."""

import math
import random
from collections import Counter

import pytest

from sodos.analyseplan import images
from sodos.domain import imageview
from tests.unit.analyseplan.kbviews import kb as kb_view
from tests.unit.analyseplan.kbviews import placed
from tests.unit.analyseplan.kbviews import site

IMAGE = '0b7e4a1c-2d3f-4e5a-8b9c-0d1e2f3a4b5c'
HASH = 'ab' * 64
NOW = 1000.0


def entry(target=None, **changes):
    record = {
        'id': IMAGE,
        'name': 'ubuntu',
        'disk_format': 'qcow2',
        'container_format': 'bare',
        'size': 4096,
        'os_hash_algo': 'sha512',
        'os_hash_value': HASH,
        'checksum': None,
        'metadata': {'min_ram': 64},
        'origin_site': 's0',
        'target': target or {'kind': 'all'},
        'state': 'active',
        'failed_sites': {},
        'created_at': 1.0,
        'updated_at': 1.0,
    }
    record.update(changes)
    return record


def node(name, lat=None, lon=None, holds=False, **kwargs):
    """A site with a relay; ``holds``: the image, active with its hash."""
    profile = {'image_relay': 'http://%s:8788' % name}
    if lat is not None:
        profile['location'] = '%s,%s' % (lat, lon)
    profile.update(kwargs.pop('profile', {}))
    name, record, summary = site(name, images=(), **profile, **kwargs)
    summary['collected_at'] = 500.0
    summary['image_details'] = {}
    if holds:
        summary['image_details'][IMAGE] = {
            'name': 'ubuntu',
            'status': 'active',
            'size': 4096,
            'os_hash_algo': 'sha512',
            'os_hash_value': holds if isinstance(holds, str) else HASH,
        }
    return name, record, summary


def federation(nodes, image=None, **kw):
    view = kb_view(nodes, **kw)
    view['images'] = {IMAGE: image or entry()}
    view.setdefault('alerts', {})
    return view


def copy_action(target, source, state='running', **extra):
    action = {
        'action_id': extra.pop('action_id', '%032x' % random.getrandbits(128)),
        'site': target,
        'kind': 'image.copy',
        'state': state,
        'params': {'image_id': IMAGE, 'source_site': source},
        'created_at': extra.pop('created_at', 600.0),
        'updated_at': extra.pop('updated_at', 600.0),
    }
    action.update(extra)
    return {action['action_id']: action}


def copies_of(decision):
    return sorted(
        (a['site'], a['params']['source_site'])
        for a in decision.actions
        if a['kind'] == 'image.copy'
    )


def schedule(view, limit=2, retry_after=60.0, prestage=None):
    return images.schedule(view, limit, retry_after, NOW, prestage)


# -- where an image should be -------------------------------------------


def test_desired_sites_by_target_kind():
    nodes = [
        node('s0', holds=True),
        node('s1', profile={'labels': {'tier': 'gold', 'eu': 'yes'}}),
        node('s2', profile={'labels': {'tier': 'silver'}}),
        node('s3', status='left'),
    ]
    view = federation(nodes)
    for target, want in (
        ({'kind': 'all'}, {'s0', 's1', 's2'}),
        ({'kind': 'sites', 'sites': ['s2', 's3']}, {'s2'}),
        ({'kind': 'labels', 'labels': {'tier': 'gold'}}, {'s1'}),
        ({'kind': 'needed'}, set()),
    ):
        assert imageview.desired(view, entry(target)) == want, target
    needed = entry({'kind': 'needed'})
    assert imageview.desired(view, needed, prestage={'s2'}) == {'s2'}
    view['placements'] = placed('a' * 32, 'web-0', 's1', image='ubuntu')
    assert imageview.desired(view, needed) == {'s1'}
    view['images'][IMAGE] = needed
    assert imageview.uses(view) == {IMAGE: {'s1'}}
    failed = entry({'kind': 'all'}, failed_sites={'s1': {'reason': 'x'}})
    assert imageview.desired(view, failed) == {'s0', 's2'}


def test_holders_are_sites_with_the_registry_hash():
    view = federation(
        [node('s0', holds=True), node('s1', holds='cd' * 64), node('s2')]
    )
    assert imageview.holders(view, entry()) == {'s0'}
    # A copy done after s2's last summary counts; one before it does not.
    done = copy_action('s2', 's0', state='done', updated_at=600.0, result={})
    for action in done.values():
        action['result'] = {'os_hash_value': HASH}
    assert imageview.holders(view, entry(), list(done.values())) == {
        's0',
        's2',
    }
    for action in done.values():
        action['updated_at'] = 400.0
    assert imageview.holders(view, entry(), list(done.values())) == {'s0'}


# -- sources ------------------------------------------------------------


def test_the_nearest_source_serves_then_the_least_busy():
    # Paris holds it, Berlin holds it; Madrid is nearer Paris, Warsaw
    # nearer Berlin.
    nodes = [
        node('paris', 48.85, 2.35, holds=True),
        node('berlin', 52.52, 13.40, holds=True),
        node('madrid', 40.42, -3.70),
        node('warsaw', 52.23, 21.01),
    ]
    decision = schedule(federation(nodes))
    assert copies_of(decision) == [
        ('madrid', 'paris'),
        ('warsaw', 'berlin'),
    ]
    (action,) = [a for a in decision.actions if a['site'] == 'madrid']
    assert action['params'] == {
        'image_id': IMAGE,
        'source_site': 'paris',
        'source_url': 'http://paris:8788',
        'expected': {
            'size': 4096,
            'os_hash_algo': 'sha512',
            'os_hash_value': HASH,
        },
        'metadata': {
            'name': 'ubuntu',
            'disk_format': 'qcow2',
            'container_format': 'bare',
            'min_ram': 64,
        },
    }


def test_no_source_serves_more_than_its_limit():
    nodes = [node('s0', holds=True)] + [node('t%d' % i) for i in range(5)]
    view = federation(nodes)
    decision = schedule(view, limit=2)
    assert len(copies_of(decision)) == 2
    assert decision.waiting == 3
    # One copy still running: one slot left.
    view['actions'] = copy_action('t0', 's0')
    decision = schedule(view, limit=2)
    assert copies_of(decision) == [('t1', 's0')]


def test_a_running_copy_is_not_asked_again_nor_a_site_down():
    view = federation(
        [node('s0', holds=True), node('s1'), node('s2', status='down')]
    )
    view['actions'] = copy_action('s1', 's0')
    decision = schedule(view)
    assert decision.actions == []
    assert decision.missing == 2


def test_a_source_without_relay_or_down_does_not_serve():
    nodes = [
        node('s0', holds=True, profile={'image_relay': ''}),
        node('s1', holds=True, status='down'),
        node('s2'),
    ]
    decision = schedule(federation(nodes))
    assert decision.actions == []
    assert decision.waiting == 1


def test_a_failed_copy_is_retried_later_from_another_source():
    nodes = [
        node('near', 0.0, 0.0, holds=True),
        node('far', 0.0, 50.0, holds=True),
        node('t', 0.0, 1.0),
    ]
    view = federation(nodes)
    view['actions'] = copy_action(
        't',
        'near',
        state='failed',
        updated_at=NOW - 10,
        result={'error': 'source unreachable'},
    )
    decision = schedule(view, retry_after=60.0)
    assert decision.actions == []
    assert decision.waiting == 1
    decision = schedule(view, retry_after=5.0)
    assert copies_of(decision) == [('t', 'far')]


def test_a_burnt_id_marks_the_site_failed_and_is_not_retried():
    view = federation([node('s0', holds=True), node('s1')])
    view['actions'] = copy_action(
        's1',
        's0',
        state='failed',
        updated_at=0.0,
        result={'error': 'hash mismatch', 'id_burnt': True},
    )
    decision = schedule(view)
    assert decision.actions == []
    assert decision.failed == [(IMAGE, 's1', 'hash mismatch')]
    # Recorded in the registry: no longer desired, an alert for it.
    view['images'][IMAGE]['failed_sites'] = {'s1': {'reason': 'bad'}}
    assert schedule(view).failed == []
    raise_, close = images.alerts(view)
    (alert,) = raise_
    assert alert['alert_id'] == images.failed_alert_id(IMAGE, 's1')
    assert alert['kind'] == 'image_failed'
    assert 'site s1' in alert['message'] and 'new ID' in alert['message']
    assert close == []
    view['alerts'] = {alert['alert_id']: alert}
    assert images.alerts(view) == ([], [])
    del view['images'][IMAGE]
    assert images.alerts(view) == ([], [alert['alert_id']])


def test_sites_a_member_waits_at_are_served_first():
    nodes = [node('s0', holds=True)] + [node('t%d' % i) for i in range(4)]
    view = federation(nodes)
    view['placements'] = placed(
        'a' * 32, 'web-0', 't3', image='ubuntu', awaiting_image=IMAGE
    )
    decision = schedule(view, limit=1)
    assert copies_of(decision) == [('t3', 's0')]


# -- deletion -----------------------------------------------------------


def test_a_deleted_image_is_removed_everywhere_then_purged():
    nodes = [node('s0', holds=True), node('s1', holds=True), node('s2')]
    view = federation(nodes, image=entry(state='deleting'))
    decision = schedule(view)
    assert sorted((a['site'], a['kind']) for a in decision.actions) == [
        ('s0', 'image.delete'),
        ('s1', 'image.delete'),
    ]
    assert decision.purge == []
    # s0's delete is done, its summary not yet newer: not asked again.
    view['actions'] = {
        'd' * 32: {
            'action_id': 'd' * 32,
            'site': 's0',
            'kind': 'image.delete',
            'state': 'done',
            'params': {'image_id': IMAGE},
            'created_at': 600.0,
            'updated_at': 600.0,
        }
    }
    assert [a['site'] for a in schedule(view).actions] == ['s1']
    for name in ('s0', 's1'):
        view['monitoring'][name]['summary']['image_details'] = {}
    decision = schedule(view)
    assert decision.actions == []
    assert decision.purge == [IMAGE]


# -- fan-out ------------------------------------------------------------


def play_rounds(n, limit, seed=1):
    """Copies in rounds from one origin: every copy of a round ends
    before the next; returns (rounds, most served by a source at once)."""
    rng = random.Random(seed)
    nodes = [
        node(
            's%03d' % i,
            round(rng.uniform(-60, 60), 3),
            round(rng.uniform(-180, 180), 3),
            holds=(i == 0),
        )
        for i in range(n)
    ]
    view = federation(nodes)
    rounds = busiest = 0
    while True:
        decision = schedule(view, limit=limit)
        if not decision.missing:
            return rounds, busiest
        started = copies_of(decision)
        assert started, 'no progress: %s' % decision.summary()
        rounds += 1
        busiest = max(busiest, *Counter(s for _, s in started).values())
        for target, _ in started:
            details = view['monitoring'][target]['summary']['image_details']
            details[IMAGE] = dict(
                view['monitoring']['s000']['summary']['image_details'][IMAGE]
            )


@pytest.mark.parametrize('n', [10, 30, 100])
def test_fan_out_takes_logarithmic_rounds_within_the_limit(n):
    rounds, busiest = play_rounds(n, limit=2)
    assert rounds <= math.ceil(math.log2(n)) + 2
    # Each round, holders triple at most (each serves two): log3 rounds.
    assert rounds >= math.ceil(math.log(n, 3))
    assert busiest == 2


def test_one_upload_per_source_is_a_doubling():
    rounds, busiest = play_rounds(100, limit=1)
    assert rounds == math.ceil(math.log2(100))
    assert busiest == 1
