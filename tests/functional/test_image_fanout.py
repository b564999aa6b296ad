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

"""Image distribution on four real site processes (simulator driver).

An image uploaded at one site is registered for that site only; an
appliance using it is constrained to another site: the copy goes first,
the server is built once the image is there. Then the image is
distributed to every site, each copy verified through the real relays,
no source serving more than its limit at once; then it is deleted
everywhere and its entry purged.
"""

import json
import os

from sodos.exec.drivers.simulator import images as simulator_images
from tests import kbwriter
from tests.functional.polling import wait_until
from tests.functional.reports import formed

IMAGE = '5f0c2a9e-1b7d-4c3e-9a8f-6d2b1e0c4a7f'
SIZE = 3 * 1024 * 1024 + 17
LIMIT = 1
SETTINGS = {
    'exec': {
        'loop_interval': 0.3,
        'monitor_interval': 0.5,
        'poll_interval': 0.05,
        'retry_delay': 0.1,
    },
    'simulator': {'boot_seconds': 0.3, 'delete_seconds': 0.2},
    'analyseplan': {
        'loop_interval': 0.5,
        'image_uploads_per_source': LIMIT,
        'retry_after': 2.0,
    },
}


def seed_image(site):
    """The image as uploaded at ``site`` before it starts."""
    images = simulator_images.SimulatedImages(lambda: None, lambda: None)
    images.add(
        IMAGE,
        SIZE,
        {'name': 'golden', 'disk_format': 'raw', 'container_format': 'bare'},
    )
    path = os.path.join(site.dir, 'simulator-%s.json' % site.name)
    with open(path, 'w', encoding='utf-8') as f:
        json.dump({'servers': {}, 'images': images.records()}, f)
    return images.records()[IMAGE]


def holding(kb, digest):
    found = set()
    for name, record in kb.api.read('monitoring').items():
        details = (record.get('summary') or {}).get('image_details') or {}
        image = details.get(IMAGE) or {}
        if image.get('status') == 'active' and (
            image.get('os_hash_value') == digest
        ):
            found.add(name)
    return found


def wait_for(check, timeout, what, kb):
    def copies():
        return [
            (a['site'], a['state'], a.get('result'))
            for a in kb.api.read('actions').values()
            if a['kind'].startswith('image.')
        ]

    # A read during an election raises: that is "not yet".
    wait_until(
        check, what, timeout, interval=0.3, tolerate=(Exception,), seen=copies
    )


def most_at_once(copies):
    """The most copies any source served at the same time."""
    events = []
    for action in copies:
        source = action['params']['source_site']
        events.append((action['created_at'], 1, source))
        events.append((action['updated_at'], -1, source))
    serving, most = {}, 0
    for _, step, source in sorted(events, key=lambda e: (e[0], e[1])):
        serving[source] = serving.get(source, 0) + step
        most = max(most, serving[source])
    return most


def test_copy_before_build_then_fan_out_then_delete(
    local_federation, transport_url
):
    fed = local_federation(
        voter_count=3, transport_url=transport_url, settings=SETTINGS
    )
    origin = fed.add_site('s1', start=False)
    record = seed_image(origin)
    origin.start()
    fed.wait(lambda r: r['leader'], 30, 'a leader')
    for name in ('s2', 's3', 's4'):
        fed.add_site(name)
    # Settled: a promotion rebuilds the member; the quorum it loses for a
    # moment would have the Exec of a site reconcile (build what is
    # missing) instead of running the server.create action followed here.
    fed.wait(
        formed(4, 3),
        60,
        'four sites up, three of them voters',
    )
    kb = kbwriter.KBWriter(fed.knowmon(fed.sites['s2']))
    digest = record['os_hash_value']
    kb.wait_monitoring(lambda m: len(m) == 4, 30, 'every site reporting')
    wait_for(lambda: holding(kb, digest) == {'s1'}, 30, 'origin seen', kb)

    result = kb.propose(
        'image.register',
        {
            'image_id': IMAGE,
            'name': 'golden',
            'disk_format': 'raw',
            'container_format': 'bare',
            'size': SIZE,
            'os_hash_algo': record['os_hash_algo'],
            'os_hash_value': digest,
            'origin_site': 's1',
            'target': {'kind': 'sites', 'sites': ['s1']},
        },
    )
    assert result['ok'], result
    # A member that needs the image where it is not yet.
    app = kb.appliance(
        {
            'name': 'app',
            'members': [
                {'name': 'web', 'image': 'golden', 'flavor': 'm1.tiny'}
            ],
            'constraints': {'sites': ['s3']},
        }
    )
    key = '%s/web-0' % app

    def built():
        servers = kb.api.read('monitoring')['s3']['summary']['servers']
        return (servers.get(key) or {}).get('status') == 'ACTIVE'

    wait_for(built, 60, 'the member built at s3', kb)
    actions = list(kb.api.read('actions').values())
    (copy,) = [a for a in actions if a['kind'] == 'image.copy']
    (create,) = [a for a in actions if a['kind'] == 'server.create']
    assert copy['site'] == create['site'] == 's3'
    assert copy['state'] == create['state'] == 'done'
    assert create['created_at'] >= copy['updated_at']
    assert kb.api.read('placements')[key]['info']['awaiting_image'] == IMAGE

    kb.propose(
        'image.distribute', {'image_id': IMAGE, 'target': {'kind': 'all'}}
    )
    everywhere = {'s1', 's2', 's3', 's4'}
    wait_for(lambda: holding(kb, digest) == everywhere, 60, 'fan-out', kb)
    copies = [
        a for a in kb.api.read('actions').values() if a['kind'] == 'image.copy'
    ]
    assert sorted(a['site'] for a in copies) == ['s2', 's3', 's4']
    assert all(a['state'] == 'done' for a in copies)
    assert all(a['result']['os_hash_value'] == digest for a in copies)
    assert most_at_once(copies) <= LIMIT

    kb.propose('image.delete', {'image_id': IMAGE})
    wait_for(lambda: not kb.api.read('images'), 60, 'image purged', kb)
    assert holding(kb, digest) == set()
