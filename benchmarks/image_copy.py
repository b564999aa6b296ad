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

"""Image copy between two sites through sodos vs a local upload.

    python benchmarks/image_copy.py [--size-mib 200] [--rounds 2]
        [--sites NAME_A,NAME_B --root DIR]

Two real OpenStack sites (minicloud; started here unless ``--sites`` and
``--root`` name two that run). One file of ``--size-mib`` random bytes.
Two cases, alternating for ``--rounds`` rounds:

``local``
    python-glanceclient at site B: create an image and upload the file
    from local disk into B's Glance (what an operator would do at each
    site by hand, with the file already there).
``sodos``
    the same file uploaded at site A first (not timed); then site B's
    ``image.copy`` handler (openstack driver) signs a relay URL, streams
    the image out of A's Glance through A's image relay and into B's
    Glance, hashing on the fly, and checks Glance's hash afterwards. The
    KB is left out: committing one action costs milliseconds.

Each case uploads under a new id (a Glance id, once deleted, is never
reused) and deletes its images after the round. The last line of
stdout is one JSON object with ``sodos_mib_s`` and ``local_upload_mib_s``
(medians over the rounds) and ``ratio`` = sodos / local.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from typing import Any

from glanceclient import client as glance_client
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos import exception
from sodos.exec import actions
from sodos.exec import image_relay
from sodos.exec.openstack import driver as os_driver
from sodos.testing import minicloud

MIB = 1024 * 1024
CONFIG = """[DEFAULT]
site_name = %(name)s
state_path = %(root)s

[raft]
password = bench-password

[exec]
driver = openstack

[site_auth]
auth_type = password
auth_url = %(auth_url)s
username = %(username)s
password = %(password)s
project_name = %(project)s
user_domain_name = %(domain)s
project_domain_name = %(domain)s
region_name = %(region)s
valid_interfaces = public
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sodos_conf_for(site: minicloud.Site, root: str) -> Any:
    """The configuration an operator would write for this site."""
    os.makedirs(root, exist_ok=True)
    path = os.path.join(root, 'sodos.conf')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(
            CONFIG
            % {
                'name': site.name,
                'root': root,
                'auth_url': site.auth_url,
                'username': site.admin_username,
                'password': site.admin_password,
                'project': site.admin_project_name,
                'domain': site.admin_user_domain_name,
                'region': site.region,
            }
        )
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf(['--config-file', path], project='sodos', default_config_files=[])
    return conf


def glance(site: minicloud.Site) -> Any:
    return glance_client.Client(
        '2', session=site.session(), region_name=site.region
    )


def upload(client: Any, path: str, size: int) -> tuple[dict[str, Any], float]:
    """A new image from the file; the image and the seconds it took."""
    started = time.monotonic()
    image = client.images.create(
        id=str(uuid.uuid4()),
        name='bench-image-copy',
        disk_format='raw',
        container_format='bare',
    )
    with open(path, 'rb') as f:
        client.images.upload(image['id'], f, image_size=size)
    took = time.monotonic() - started
    found = client.images.get(image['id'])
    if found['status'] != 'active' or found['size'] != size:
        raise RuntimeError('upload ended %s: %s' % (found['status'], found))
    return found, took


class Sodos:
    """Site A's relay and site B's image.copy handler, in this process."""

    def __init__(self, site_a: minicloud.Site, site_b: minicloud.Site, root):
        self.conf_a = sodos_conf_for(site_a, os.path.join(root, 'a'))
        self.conf_b = sodos_conf_for(site_b, os.path.join(root, 'b'))
        self.driver_a = os_driver.OpenStackDriver(self.conf_a)
        self.driver_b = os_driver.OpenStackDriver(self.conf_b)
        self.relay = image_relay.Relay(self.conf_a, self.driver_a)
        self.relay.start()
        self.handler = actions.CopyImage()

    def copy(self, image: dict[str, Any]) -> float:
        params = {
            'image_id': image['id'],
            'source_site': self.conf_a.site_name,
            'source_url': self.relay.url,
            'expected': {
                'size': image['size'],
                'os_hash_algo': image['os_hash_algo'],
                'os_hash_value': image['os_hash_value'],
            },
            'metadata': {
                'name': image['name'],
                'disk_format': image['disk_format'],
                'container_format': image['container_format'],
            },
        }
        ctx = actions.Context(
            conf=self.conf_b,
            driver=self.driver_b,
            site=self.conf_b.site_name,
            stopping=lambda seconds: False,
            placements=dict,
        )
        started = time.monotonic()
        result = self.handler(
            ctx, {'action_id': uuid.uuid4().hex, 'params': params}
        )
        took = time.monotonic() - started
        if not result['created']:
            raise RuntimeError('the image was not copied: %s' % result)
        return took

    def stop(self) -> None:
        self.relay.stop()
        self.driver_a.close()
        self.driver_b.close()


def run_rounds(
    site_a: minicloud.Site,
    site_b: minicloud.Site,
    work: str,
    size: int,
    rounds: int,
) -> dict[str, list[float]]:
    path = os.path.join(work, 'image.raw')
    with open(path, 'wb') as f:
        for _ in range(size // MIB):
            f.write(os.urandom(MIB))
        f.write(os.urandom(size % MIB))
    glance_a, glance_b = glance(site_a), glance(site_b)
    sodos = Sodos(site_a, site_b, os.path.join(work, 'sodos'))
    times: dict[str, list[float]] = {'local': [], 'sodos': []}
    try:
        for n in range(rounds):
            made: list[tuple[Any, str]] = []
            for case in (
                ('local', 'sodos')
                if n % 2 == 0
                else (
                    'sodos',
                    'local',
                )
            ):
                if case == 'local':
                    image, took = upload(glance_b, path, size)
                    made.append((glance_b, image['id']))
                else:
                    image, _ = upload(glance_a, path, size)
                    made.append((glance_a, image['id']))
                    took = sodos.copy(image)
                    made.append((glance_b, image['id']))
                times[case].append(took)
                log(
                    'round %d/%d %s: %d MiB in %.2f s (%.1f MiB/s)'
                    % (
                        n + 1,
                        rounds,
                        case,
                        size // MIB,
                        took,
                        size / MIB / took,
                    )
                )
            for client, image_id in made:
                client.images.delete(image_id)
    finally:
        sodos.stop()
    return times


def start_sites(work: str, own: list[minicloud.Site]) -> None:
    """Two new sites into ``own``, started side by side (start-up is
    CPU-bound); ``own`` holds them even when one fails to start."""
    for name in ('bench-img-a', 'bench-img-b'):
        base = minicloud.free_port_base()
        while any(abs(base - s.layout.port_base) < 10 for s in own):
            base = minicloud.free_port_base()
        own.append(minicloud.Site(name, base, work, output=log))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        starts = [pool.submit(site.start) for site in own]
    for future in starts:
        future.result()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[1])
    parser.add_argument('--size-mib', type=int, default=200)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--sites', help='NAME_A,NAME_B: running sites')
    parser.add_argument('--root', help='the minicloud root of --sites')
    args = parser.parse_args()
    if args.size_mib < 1 or args.rounds < 1:
        parser.error('--size-mib and --rounds must be at least 1')
    if bool(args.sites) != bool(args.root):
        parser.error('--sites and --root go together')
    work = tempfile.mkdtemp(prefix='sodos-bench-image-')
    own: list[minicloud.Site] = []
    try:
        if args.sites:
            names = args.sites.split(',')
            if len(names) != 2:
                parser.error('--sites takes two names')
            site_a, site_b = (
                minicloud.Site.load(n, args.root, output=log) for n in names
            )
        else:
            log('starting two minicloud sites (a few minutes of CPU)')
            start_sites(work, own)
            site_a, site_b = own
        times = run_rounds(
            site_a, site_b, work, args.size_mib * MIB, args.rounds
        )
    except (minicloud.MinicloudError, exception.SodosError) as exc:
        log('error: %s' % exc)
        return 2
    finally:
        for site in own:
            site.destroy()
        shutil.rmtree(work, ignore_errors=True)
    size_mib = float(args.size_mib)
    sodos_rate = size_mib / statistics.median(times['sodos'])
    local_rate = size_mib / statistics.median(times['local'])
    report = {
        'size_mib': args.size_mib,
        'rounds': args.rounds,
        'sodos_mib_s': round(sodos_rate, 1),
        'local_upload_mib_s': round(local_rate, 1),
        'ratio': round(sodos_rate / local_rate, 3),
        'sodos_runs_s': [round(t, 3) for t in times['sodos']],
        'local_runs_s': [round(t, 3) for t in times['local']],
    }
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
