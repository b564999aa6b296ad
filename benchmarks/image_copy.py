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
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

# A sibling script: the fan-out half of the report.
import image_fanout

from sodos import exception
from sodos.exec import actions
from sodos.exec.drivers.openstack import driver as os_driver
from sodos.exec.images import relay as image_relay

# The test bed (minicloud and its helpers, under tests/) is not
# installed with sodos: it is imported from this checkout.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tests import clouds  # noqa: E402
from tests import minicloud  # noqa: E402

MIB = 1024 * 1024


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def sodos_conf_for(site: minicloud.Site, root: str) -> Any:
    """The configuration an operator would write for this site."""
    return clouds.load_conf(
        root,
        {
            'DEFAULT': {'site_name': site.name, 'state_path': root},
            'raft': {'password': 'bench-password'},
            'exec': {'driver': 'openstack'},
            'site_auth': clouds.site_auth(site),
        },
    )


def upload(client: Any, path: str, size: int) -> tuple[dict[str, Any], float]:
    """A new image from the file; the image and the seconds it took."""
    started = time.monotonic()
    with open(path, 'rb') as f:
        image = clouds.upload(client, 'bench-image-copy', f, size)
    return image, time.monotonic() - started


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
        params = clouds.copy_params(
            image,
            self.conf_a.site_name,
            self.relay.url,
            {k: image[k] for k in ('name', 'disk_format', 'container_format')},
        )
        ctx = actions.Context(
            conf=self.conf_b,
            driver=self.driver_b,
            site=self.conf_b.site_name,
            stopping=lambda seconds: False,
            placement=lambda key: None,
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
    glance_a, glance_b = clouds.glance(site_a), clouds.glance(site_b)
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
    try:
        with clouds.scratch('sodos-bench-image-') as (work, own):
            if args.sites:
                names = args.sites.split(',')
                if len(names) != 2:
                    parser.error('--sites takes two names')
                site_a, site_b = (
                    minicloud.Site.load(n, args.root, output=log)
                    for n in names
                )
            else:
                log('starting two minicloud sites (a few minutes of CPU)')
                clouds.start_sites(
                    ['bench-img-a', 'bench-img-b'], work, own, log
                )
                site_a, site_b = own
            times = run_rounds(
                site_a, site_b, work, args.size_mib * MIB, args.rounds
            )
    except (minicloud.MinicloudError, exception.SodosError) as exc:
        log('error: %s' % exc)
        return 2
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
        # Copy rounds until 100 sites hold an image, two uploads per
        # source at once (benchmarks/image_fanout.py has the details).
        'fanout_rounds_100': image_fanout.rounds(100, 2, seed=1)[0],
    }
    print(json.dumps(report))
    return 0


if __name__ == '__main__':
    sys.exit(main())
