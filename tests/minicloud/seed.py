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

"""What every new site has: three flavors and one public image.

The flavors fit MediumFakeDriver's node (10 VCPU, 8 GiB, 1028 GB; with
the default allocation ratios 40 VCPU and 7680 MB can be scheduled), so
a test can both boot and fill a site.
"""

from __future__ import annotations

import io
import os

from keystoneauth1 import session as ks_session

# name: (vcpus, ram MB, disk GB)
FLAVORS = {
    'm1.tiny': (1, 512, 1),
    'm1.small': (1, 2048, 10),
    'm1.medium': (2, 4096, 20),
}
IMAGE_NAME = 'fake-image'
IMAGE_SIZE = 1024 * 1024

COMPUTE_MICROVERSION = '2.79'


def flavors(sess: ks_session.Session, region: str) -> None:
    from novaclient import client

    nova = client.Client(
        COMPUTE_MICROVERSION, session=sess, region_name=region
    )
    for name, (vcpus, ram, disk) in FLAVORS.items():
        nova.flavors.create(name, ram, vcpus, disk, is_public=True)


def image(sess: ks_session.Session, region: str) -> str:
    """Upload the public raw image; return its id."""
    from glanceclient import client

    glance = client.Client('2', session=sess, region_name=region)
    # Random bytes labelled raw: glance checks the format of an upload,
    # so they must not claim to be qcow2.
    created = glance.images.create(
        name=IMAGE_NAME,
        disk_format='raw',
        container_format='bare',
        visibility='public',
    )
    glance.images.upload(created.id, io.BytesIO(os.urandom(IMAGE_SIZE)))
    return created.id
