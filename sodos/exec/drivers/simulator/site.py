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

"""The simulated site: an in-memory site that acts as Nova does.

It is a feature (outage simulation, the local federation, sodos-sim),
not a test double, so it keeps Nova's rules:

* a server is BUILD for ``[simulator]boot_seconds``, then ACTIVE;
* the scheduler places it on a host with room for its flavor, counting
  vCPU, RAM and disk with Nova's allocation ratios and reserved RAM;
  with no room it goes to ERROR with Nova's "No valid host" fault and
  holds no resources;
* an unknown image or flavor, or the instance quota, refuses the create
  with Nova's message;
* a deleted server disappears after ``[simulator]delete_seconds``;
* a failed host (``[simulator]failed_hosts``) takes no new server and
  its servers are reported in ERROR, as Nova reports them once the
  compute service is gone and an operator resets them.

Servers and images (:mod:`.images`) are kept in
``[simulator]state_file`` (written atomically on every change), so a
restarted Exec finds them as it would on a real site.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
import uuid
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.exec.drivers import base as driver
from sodos.exec.drivers.simulator import images as simulator_images

NO_VALID_HOST = (
    'No valid host was found. There are not enough hosts available.'
)


def parse_flavors(entries: list[str]) -> dict[str, dict[str, int]]:
    """``NAME:VCPUS:RAM_MB:DISK_GB`` entries, checked."""
    flavors = {}
    for entry in entries:
        parts = entry.split(':')
        try:
            if len(parts) != 4:
                raise ValueError
            vcpus, ram, disk = (int(p) for p in parts[1:])
            if min(vcpus, ram) < 1 or disk < 0 or not parts[0]:
                raise ValueError
        except ValueError:
            raise exception.ConfigError(
                '[simulator]flavors: %r is not NAME:VCPUS:RAM_MB:DISK_GB '
                'with positive numbers' % entry
            ) from None
        flavors[parts[0]] = {'vcpus': vcpus, 'ram_mb': ram, 'disk_gb': disk}
    return flavors


class SimulatedSite:
    """The site's state; every method is safe to call from any thread."""

    def __init__(
        self, conf: cfg.ConfigOpts, state_file: str | None = None
    ) -> None:
        self.conf = conf
        self.sim = conf.simulator
        self.flavors = parse_flavors(self.sim.flavors)
        self.hosts = [
            '%s-%d' % (conf.site_name, n) for n in range(1, self.sim.hosts + 1)
        ]
        self.state_file = state_file
        self._lock = threading.Lock()
        self._servers: dict[str, dict[str, Any]] = {}
        images: dict[str, dict[str, Any]] = {}
        if state_file and os.path.exists(state_file):
            images = self._load(state_file)
        # Glance: images copied in or added (.images).
        self.images = simulator_images.SimulatedImages(
            self._call, self._save_images, images
        )

    # -- the API surface --------------------------------------------------

    def create(
        self,
        name: str,
        image: str,
        flavor: str,
        metadata: dict[str, str],
        boot: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``boot``: what else the server boots with, kept as given
        (project_id, key_name, public_key, user_data)."""
        self._call()
        with self._lock:
            self._expire()
            if flavor not in self.flavors:
                raise driver.PermanentError(
                    'Flavor %s could not be found. (HTTP 400)' % flavor
                )
            if image not in self.sim.images and not (
                self.images.is_active(image)
            ):
                raise driver.PermanentError(
                    'Image %s could not be found. (HTTP 400)' % image
                )
            quota = self.sim.max_instances
            if 0 <= quota <= len(self._servers):
                raise driver.PermanentError(
                    'Quota exceeded for instances: Requested 1, but '
                    'already used %d of %d instances (HTTP 403)'
                    % (len(self._servers), quota)
                )
            host = self._schedule(self.flavors[flavor])
            server: dict[str, Any] = {
                'id': str(uuid.uuid4()),
                'name': name,
                'image': image,
                'flavor': flavor,
                'metadata': dict(metadata),
                **(boot or {}),
                'host': host,
                'created_at': time.time(),
                'fault': '' if host else NO_VALID_HOST,
                'deleted_at': None,
            }
            self._servers[server['id']] = server
            self._save()
            return self._view(server)

    def get(self, server_id: str) -> dict[str, Any] | None:
        self._call()
        with self._lock:
            self._expire()
            server = self._servers.get(server_id)
            return self._view(server) if server else None

    def servers(self) -> list[dict[str, Any]]:
        self._call()
        with self._lock:
            self._expire()
            return [self._view(s) for s in self._servers.values()]

    def delete(self, server_id: str) -> None:
        self._call()
        with self._lock:
            server = self._servers.get(server_id)
            if server is not None and server['deleted_at'] is None:
                server['deleted_at'] = time.time()
                self._save()

    def image_names(self) -> list[str]:
        self._call()
        return sorted(set(self.sim.images) | self.images.active_names())

    def usage(self) -> dict[str, driver.Resource]:
        """Placement's view: totals after ratios and reserves, and usage."""
        self._call()
        with self._lock:
            self._expire()
            up = [h for h in self.hosts if h not in self._failed_hosts()]
            used = self._used()
            totals = self._host_totals()
            return {
                kind: driver.Resource(
                    total=totals[kind] * len(up),
                    used=sum(used[h][kind] for h in up),
                )
                for kind in ('vcpu', 'ram_mb', 'disk_gb')
            }

    # -- Nova's rules -----------------------------------------------------

    def _call(self) -> None:
        """Every API call: the latency and outage switches."""
        if self.sim.api_latency_ms:
            time.sleep(self.sim.api_latency_ms / 1000.0)
        if self.sim.api_down:
            raise driver.TransientError(
                'simulated site %s: API unreachable ([simulator]api_down)'
                % self.conf.site_name
            )

    def _host_totals(self) -> dict[str, float]:
        sim = self.sim
        return {
            'vcpu': sim.host_vcpus * sim.cpu_allocation_ratio,
            'ram_mb': (sim.host_ram_mb - sim.reserved_host_memory_mb)
            * sim.ram_allocation_ratio,
            'disk_gb': sim.host_disk_gb * sim.disk_allocation_ratio,
        }

    def _failed_hosts(self) -> set[str]:
        failed = set()
        for entry in self.sim.failed_hosts:
            if entry.isdigit():
                failed.add('%s-%s' % (self.conf.site_name, entry))
            else:
                failed.add(entry)
        return failed

    def _used(self) -> dict[str, dict[str, float]]:
        used = {
            h: {'vcpu': 0.0, 'ram_mb': 0.0, 'disk_gb': 0.0} for h in self.hosts
        }
        for server in self._servers.values():
            host = server['host']
            if host in used:
                flavor = self.flavors.get(server['flavor'])
                if flavor is None:
                    continue
                used[host]['vcpu'] += flavor['vcpus']
                used[host]['ram_mb'] += flavor['ram_mb']
                used[host]['disk_gb'] += flavor['disk_gb']
        return used

    def _schedule(self, flavor: dict[str, int]) -> str | None:
        """The up host with the most free RAM that fits (Nova's default
        RAM weigher), or None."""
        totals = self._host_totals()
        used = self._used()
        failed = self._failed_hosts()
        need = {
            'vcpu': flavor['vcpus'],
            'ram_mb': flavor['ram_mb'],
            'disk_gb': flavor['disk_gb'],
        }
        fits = [
            host
            for host in self.hosts
            if host not in failed
            and all(used[host][k] + need[k] <= totals[k] for k in need)
        ]
        if not fits:
            return None
        return max(fits, key=lambda h: totals['ram_mb'] - used[h]['ram_mb'])

    def _expire(self) -> None:
        """Drop the servers whose deletion has finished."""
        now = time.time()
        gone = [
            sid
            for sid, s in self._servers.items()
            if s['deleted_at'] is not None
            and now - s['deleted_at'] >= self.sim.delete_seconds
        ]
        for sid in gone:
            del self._servers[sid]
        if gone:
            self._save()

    def _view(self, server: dict[str, Any]) -> dict[str, Any]:
        if server['deleted_at'] is not None:
            status = 'DELETED'
        elif server['fault']:
            status = 'ERROR'
        elif server['host'] in self._failed_hosts():
            status = 'ERROR'
        elif time.time() - server['created_at'] < self.sim.boot_seconds:
            status = 'BUILD'
        else:
            status = 'ACTIVE'
        fault = server['fault']
        if status == 'ERROR' and not fault:
            fault = 'compute host %s is down' % server['host']
        return dict(server, status=status, fault=fault)

    # -- persistence ------------------------------------------------------

    def _load(self, path: str) -> dict[str, dict[str, Any]]:
        try:
            with open(path, encoding='utf-8') as f:
                data = json.load(f)
            servers = data['servers']
            images = data.get('images', {})
            if not isinstance(servers, dict) or not isinstance(images, dict):
                raise ValueError('servers or images is not an object')
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise exception.ConfigError(
                '[simulator]state_file %s is unreadable (%s): move it aside '
                'to start the simulated site empty' % (path, exc)
            ) from exc
        self._servers = servers
        return images

    def _save_images(self) -> None:
        with self._lock:
            self._save()

    def _save(self) -> None:
        if not self.state_file:
            return
        directory = os.path.dirname(self.state_file) or '.'
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix='.simulator-')
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            json.dump(
                {'servers': self._servers, 'images': self.images.records()}, f
            )
        os.replace(tmp, self.state_file)
