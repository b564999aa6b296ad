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

"""The site summary Exec reports to its KnowMon.

One summary per collection: API health and latency, capacity and usage
as placement counts them, every sodos-managed server and its state, the
images (names of the active ones, and every image by id with its status
and hash) and the flavors present. KnowMon decides whether it differs
enough from the last committed one to be worth a Raft entry
(sodos.knowmon.summary).
"""

from __future__ import annotations

import time
from typing import Any

from sodos import exception
from sodos.exec.drivers import base as driver


def collect(drv: driver.Driver) -> dict[str, Any]:
    """The summary; with ``api.ok`` false when the site did not answer."""
    started = time.monotonic()
    try:
        drv.probe()
        latency_ms = (time.monotonic() - started) * 1000.0
        capacity = drv.capacity()
        servers = drv.list_servers()
        images = drv.images()
        image_details = drv.image_details()
        flavors = drv.flavors()
    except exception.SodosError as exc:
        return {
            'api': {'ok': False, 'error': str(exc)[:500]},
            'collected_at': time.time(),
        }
    return {
        'api': {'ok': True, 'latency_ms': round(latency_ms, 1)},
        'capacity': {
            kind: {'total': res.total, 'used': res.used}
            for kind, res in sorted(capacity.items())
        },
        'servers': _servers(servers),
        'images': sorted(images),
        # Every image by id, whatever its status (a half copy included).
        'image_details': {
            image_id: image_details[image_id]
            for image_id in sorted(image_details)
        },
        'flavors': {name: flavors[name] for name in sorted(flavors)},
        'collected_at': time.time(),
    }


def _servers(servers: list[driver.Server]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for server in sorted(servers, key=lambda s: (s.key, s.id)):
        entry: dict[str, Any] = {'id': server.id, 'status': server.status}
        if server.fault:
            entry['fault'] = server.fault[:300]
        if server.addresses:
            entry['addresses'] = list(server.addresses)
        if server.key in out:
            # Two servers for one member: reported, reconcile removes one.
            out[server.key].setdefault('others', []).append(entry)
        else:
            out[server.key] = entry
    return out
