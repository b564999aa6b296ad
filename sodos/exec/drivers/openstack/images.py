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

"""Images in the site's Glance (image API v2), for copies between sites.

A copy keeps the source's image id: Glance accepts a caller-chosen id at
create, but never one it has seen deleted (409, forever). Hence the
order here: create the image with its id and metadata, upload through
the verifying reader, and on a failed upload leave the image ``queued``
(Glance puts it back there) so that the next attempt uploads into it.
Nothing here deletes a copy it may still need. After the upload,
Glance's own ``size`` and ``os_hash_value`` are checked as well: an
image that turned active with other data is deactivated, never deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from glanceclient import exc as glance_exc
from glanceclient.v2 import client as glance_v2
from keystoneauth1 import session as ks_session

from sodos.exec.drivers import base as driver
from sodos.exec.drivers.openstack import errors
from sodos.exec.images import copy as image_copy
from sodos.exec.images import errors as image_errors

LOG = logging.getLogger(__name__)
# Metadata a copy passes to Glance at create, besides the properties.
CREATE_FIELDS = driver.COPIED_FIELDS
# Properties Glance sets itself or reserves: never passed on.
RESERVED = frozenset(
    {
        'id',
        'status',
        'owner',
        'size',
        'virtual_size',
        'checksum',
        'os_hash_algo',
        'os_hash_value',
        'created_at',
        'updated_at',
        'file',
        'schema',
        'self',
        'direct_url',
        'locations',
        'stores',
        'os_hidden',
    }
)


def details(glance: glance_v2.Client) -> dict[str, dict[str, Any]]:
    with errors.translated('listing images'):
        return {image['id']: _fields(image) for image in glance.images.list()}


def _fields(image: Any) -> dict[str, Any]:
    """:data:`driver.IMAGE_FIELDS` of a Glance image; Glance shows the
    additional properties beside its own fields."""
    found = {f: image.get(f) for f in driver.IMAGE_FIELDS}
    found['properties'] = {
        key: value if isinstance(value, str) else str(value)
        for key, value in image.items()
        if key not in RESERVED
        and key not in CREATE_FIELDS
        and key != 'properties'
        and not key.startswith('os_glance')
    }
    return found


def get(glance: glance_v2.Client, image_id: str) -> dict[str, Any] | None:
    with errors.translated('reading image %s' % image_id):
        try:
            return dict(glance.images.get(image_id))
        except glance_exc.HTTPNotFound:
            return None


def open_image(
    glance: glance_v2.Client, image_id: str
) -> tuple[dict[str, Any], Iterator[bytes]]:
    found = get(glance, image_id)
    if found is None:
        raise image_errors.ImageNotFound(
            'image %s is not at this site' % image_id
        )
    if found.get('status') != 'active':
        raise image_errors.ImageNotActive(
            'image %s is %s at this site' % (image_id, found.get('status'))
        )
    with errors.translated('downloading image %s' % image_id):
        # Not verified here: the receiving site verifies every byte
        # against the registry's hash, which also covers this side.
        body = glance.images.data(image_id, do_checksum=False)
    return _fields(found), _chunks(body, image_id)


def _chunks(body: Any, image_id: str) -> Iterator[bytes]:
    with errors.translated('downloading image %s' % image_id):
        yield from body


def copy_in(
    glance: glance_v2.Client,
    session: ks_session.Session,
    image_id: str,
    metadata: dict[str, Any],
    reader: image_copy.HashingReader,
    expected: dict[str, Any],
) -> dict[str, Any]:
    step = image_copy.next_step(image_id, get(glance, image_id), expected)
    if step == 'done':
        return {'created': False}
    if step == 'create':
        create(glance, session, image_id, metadata)
    _upload(glance, image_id, reader, expected['size'])
    _verify(glance, image_id, expected)
    return {'created': True}


def create(
    glance: glance_v2.Client,
    session: ks_session.Session,
    image_id: str,
    metadata: dict[str, Any],
) -> None:
    """The image here under its id, with its metadata and no data
    (``queued``); its owner where that project exists here. Made by
    another attempt already is fine; deleted here once, it is burnt."""
    fields = {
        key: metadata[key]
        for key in CREATE_FIELDS
        if metadata.get(key) is not None
    }
    for key, value in (metadata.get('properties') or {}).items():
        if key in RESERVED or key.startswith('os_glance'):
            continue
        # Glance takes additional properties as strings only.
        fields[key] = value if isinstance(value, str) else str(value)
    owner = metadata.get('owner')
    if owner and _project_exists(session, owner):
        fields['owner'] = owner
    try:
        with errors.translated('creating image %s' % image_id):
            glance.images.create(id=image_id, **fields)
    except driver.TransientError as exc:
        if not isinstance(exc.__cause__, glance_exc.HTTPConflict):
            raise
        # The id exists: another attempt created it meanwhile, or Glance
        # deleted it once and will never take it again.
        if get(glance, image_id) is None:
            raise image_copy.burnt(image_id, str(exc.__cause__)) from exc
    except TypeError as exc:
        # glanceclient checks the fields against Glance's image schema.
        raise driver.PermanentError(
            'image %s: metadata refused by the image schema: %s'
            % (image_id, exc)
        ) from exc


def _project_exists(session: ks_session.Session, project_id: str) -> bool:
    """Whether the owner's project is known here (ids are per site)."""
    try:
        response = session.get(
            '/v3/projects/%s' % project_id,
            endpoint_filter={'service_type': 'identity', 'version': (3, 0)},
            raise_exc=False,
        )
    except Exception as exc:
        LOG.warning('cannot look up project %s: %s', project_id, exc)
        return False
    return bool(response.status_code == 200)


def _upload(
    glance: glance_v2.Client,
    image_id: str,
    reader: image_copy.HashingReader,
    size: int,
) -> None:
    try:
        with errors.translated('uploading image %s' % image_id):
            glance.images.upload(image_id, reader, image_size=size)
    except Exception as exc:
        # The HTTP stack may wrap what the reader raised: that is the
        # cause to report (hash mismatch, short read, source broken).
        if reader.error is not None:
            raise reader.error from exc
        raise
    if reader.error is not None:
        raise reader.error
    if not reader.verified:
        raise image_copy.ShortRead(
            'short read: image %s: the upload ended after %d of %d bytes'
            % (image_id, reader.done, size)
        )


def _verify(
    glance: glance_v2.Client, image_id: str, expected: dict[str, Any]
) -> None:
    found = get(glance, image_id) or {}
    if found.get('status') != 'active':
        raise driver.TransientError(
            'image %s is %s after its upload, not active'
            % (image_id, found.get('status') or 'gone')
        )
    mismatch = image_copy.compare(found, expected)
    if not mismatch:
        return
    LOG.error(
        'image %s: Glance computed other data than was sent (%s); '
        'deactivating it',
        image_id,
        mismatch,
    )
    with errors.translated('deactivating image %s' % image_id):
        glance.images.deactivate(image_id)
    raise image_copy.HashMismatch(
        'hash mismatch: image %s became active with %s; deactivated'
        % (image_id, mismatch)
    )


def delete(glance: glance_v2.Client, image_id: str) -> bool:
    with errors.translated('deleting image %s' % image_id):
        try:
            glance.images.delete(image_id)
        except glance_exc.HTTPNotFound:
            return False
    return True
