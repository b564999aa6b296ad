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

"""What the integration tests and benchmarks do with real OpenStack
sites (minicloud): the config of a sodos site that drives one, a Glance
client, images of random bytes, sites started side by side, and a work
directory that takes the sites it started with it.

One copy of each, so that a benchmark measures what the tests check.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from concurrent import futures
from typing import IO
from typing import Any

from glanceclient import client as glance_client
from oslo_config import cfg

from sodos import conf as sodos_conf
from sodos.sim import certs
from sodos.sim import siteconf
from tests import minicloud

# What Glance shows of an image that a copy keeps the same at every site
# (besides its additional properties).
SAME_AT_EVERY_SITE = (
    'id',
    'name',
    'disk_format',
    'container_format',
    'min_disk',
    'min_ram',
    'visibility',
    'size',
    'os_hash_algo',
    'os_hash_value',
    'checksum',
)


def site_auth(site: minicloud.Site) -> dict[str, str]:
    """The ``[site_auth]`` section of a sodos site driving ``site``."""
    return {
        'auth_type': 'password',
        'auth_url': site.auth_url,
        'username': site.admin_username,
        'password': site.admin_password,
        'project_name': site.admin_project_name,
        'user_domain_name': site.admin_user_domain_name,
        'project_domain_name': site.admin_project_domain_name,
        'region_name': site.region,
        'valid_interfaces': 'public',
    }


def load_conf(
    root: str, sections: dict[str, dict[str, Any]]
) -> cfg.ConfigOpts:
    """``sections`` written to ``root``/sodos.conf, as an operator
    would, and loaded as a sodos process loads it.

    Sites talk mutual TLS: unless ``sections`` say otherwise, the site
    gets a certificate of the CA in ``root``'s parent directory, which
    the sites loaded side by side there share (:mod:`sodos.sim.certs`).
    """
    os.makedirs(root, exist_ok=True)
    raft = sections.get('raft', {})
    if not (raft.get('ssl_ca_file') or raft.get('insecure_dev_mode')):
        ca = certs.LocalCA(os.path.join(os.path.dirname(root), 'ca'))
        name = sections.get('DEFAULT', {}).get('site_name', 'site')
        sections = dict(sections, raft=dict(raft, **ca.issue(name)))
    path = os.path.join(root, 'sodos.conf')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(siteconf.render(sections))
    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf(['--config-file', path], project='sodos', default_config_files=[])
    return conf


def glance(site: minicloud.Site) -> Any:
    """The site's Glance (image API v2), as its admin."""
    return glance_client.Client(
        '2', session=site.session(), region_name=site.region
    )


def upload(
    client: Any, name: str, data: IO[bytes], size: int, **metadata: Any
) -> Any:
    """A new raw image of the ``size`` bytes of ``data``, under a new id,
    with ``metadata`` (Glance fields and additional properties).

    Returns Glance's image; RuntimeError unless it turned active with
    that size.
    """
    image = client.images.create(
        id=str(uuid.uuid4()),
        name=name,
        disk_format='raw',
        container_format='bare',
        **metadata,
    )
    client.images.upload(image['id'], data, image_size=size)
    found = client.images.get(image['id'])
    if found['status'] != 'active' or found['size'] != size:
        raise RuntimeError(
            'the upload of image %s ended %s: %s'
            % (name, found['status'], found)
        )
    return found


def upload_random(
    site: minicloud.Site, name: str, size: int, **metadata: Any
) -> Any:
    """:func:`upload` of ``size`` random bytes into the site's Glance."""
    data = io.BytesIO(os.urandom(size))
    return upload(glance(site), name, data, size, **metadata)


def copy_params(
    image: Any, source_site: str, source_url: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    """The params of an ``image.copy`` action of the Glance image
    ``image`` from the relay of ``source_site`` at ``source_url``."""
    return {
        'image_id': image['id'],
        'source_site': source_site,
        'source_url': source_url,
        'expected': {
            'size': image['size'],
            'os_hash_algo': image['os_hash_algo'],
            'os_hash_value': image['os_hash_value'],
        },
        'metadata': metadata,
    }


def start_sites(
    names: list[str],
    work: str,
    own: list[minicloud.Site],
    output: Callable[[str], None],
) -> None:
    """New sites, started side by side (start-up is CPU-bound), into
    ``own``: it holds them even when one fails to start, so that they
    are destroyed all the same."""
    bases = minicloud.free_port_bases(len(names))
    sites = [
        minicloud.Site(name, base, work, output=output)
        for name, base in zip(names, bases, strict=True)
    ]
    own.extend(sites)
    with futures.ThreadPoolExecutor(len(sites)) as pool:
        starts = [pool.submit(site.start) for site in sites]
    for future in starts:
        future.result()


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[tuple[str, list[minicloud.Site]]]:
    """A new work directory and a list for the sites started in it;
    on the way out the sites are destroyed and the directory removed."""
    work = tempfile.mkdtemp(prefix=prefix)
    own: list[minicloud.Site] = []
    try:
        yield work, own
    finally:
        for site in own:
            site.destroy()
        shutil.rmtree(work, ignore_errors=True)
