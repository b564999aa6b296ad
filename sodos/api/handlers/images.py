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

"""Images: registered from a site that has one, distributed by the
AnalysePlan leader, which copies them site to site (image relay).

The API never sees image bytes. An image is uploaded to one site's
Glance as usual; once that site's monitoring summary lists it active,
``POST /v1/images`` registers it by its id, taking its name, formats,
size and hash (and, unless the body gives them, its metadata) from the
summary. Where it should be is its target; where it is comes from every
site's summary and the copies under way (:mod:`sodos.readmodel`).
"""

from __future__ import annotations

import re
from typing import Any

import fastjsonschema
import webob

from sodos import readmodel
from sodos.api import errors
from sodos.api import util
from sodos.api.policies import image as policies
from sodos.api.schemas import image as schemas
from sodos.kb import schemas as kb_schemas
from sodos.kb import shapes

_IMAGE_ID = re.compile(kb_schemas.IMAGE_ID['pattern'])
# What the image's detail is made from.
SECTIONS = ('images', 'sites', 'monitoring', 'actions', 'placements')
# Metadata taken from the site's summary unless the body gives it.
METADATA = ('min_disk', 'min_ram', 'visibility', 'tags', 'properties')


def _kb(req: webob.Request) -> dict[str, Any]:
    return {name: util.read(req, name) or {} for name in SECTIONS}


def _entry(kb: dict[str, Any], image_id: str) -> dict[str, Any]:
    if not _IMAGE_ID.match(image_id):
        raise errors.not_found(
            'no image %r (image ids are lowercase dashed uuids, as Glance '
            'shows them)' % image_id
        )
    entry: dict[str, Any] | None = kb['images'].get(image_id)
    if entry is None:
        raise errors.not_found(
            'no image %s in the registry (register it with POST '
            '/v1/images)' % image_id
        )
    return entry


def _detail(req: webob.Request, image_id: str) -> dict[str, Any]:
    kb = _kb(req)
    detail: dict[str, Any] = readmodel.image_detail(kb, _entry(kb, image_id))
    return detail


def list_images(req: webob.Request) -> webob.Response:
    util.authorize(req, policies.LIST)
    util.query(req, {})
    return util.respond({'images': readmodel.image_rows(_kb(req))})


def show(req: webob.Request, image_id: str) -> webob.Response:
    util.authorize(req, policies.GET)
    return util.respond({'image': _detail(req, image_id)})


def create(req: webob.Request) -> webob.Response:
    """Register an image some site holds active; 404 if none does."""
    util.authorize(req, policies.CREATE)
    body = util.json_body(req, schemas.CREATE)['image']
    image_id = body['id']
    kb = _kb(req)
    old = kb['images'].get(image_id)
    if old is not None:
        raise errors.conflict(
            'image %s is registered already (%s, target %s): change its '
            'target with PUT /v1/images/%s/target'
            % (image_id, old['state'], _target_text(old), image_id)
        )
    args = register_args(kb, image_id, body)
    util.propose(req, 'image.register', args)
    return util.created(
        req, {'image': _detail(req, image_id)}, 'images/%s' % image_id
    )


def set_target(req: webob.Request, image_id: str) -> webob.Response:
    util.authorize(req, policies.DISTRIBUTE)
    body = util.json_body(req, schemas.SET_TARGET)
    _entry(_kb(req), image_id)
    util.propose(
        req,
        'image.distribute',
        {'image_id': image_id, 'target': body['target']},
    )
    return util.respond({'image': _detail(req, image_id)})


def delete(req: webob.Request, image_id: str) -> webob.Response:
    util.authorize(req, policies.DELETE)
    _entry(_kb(req), image_id)
    util.propose(req, 'image.delete', {'image_id': image_id})
    return util.no_content()


def _target_text(entry: dict[str, Any]) -> str:
    target = entry.get('target') or {'kind': 'needed'}
    if target['kind'] == 'sites':
        return ','.join(target['sites'])
    if target['kind'] == 'labels':
        return ','.join('%s=%s' % kv for kv in target['labels'].items())
    return str(target['kind'])


def _holders(
    kb: dict[str, Any], image_id: str
) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """Sites whose summary lists the image active (up sites first), and
    a word on the others that list it."""
    active, others = [], []
    for name in sorted(kb['sites']):
        summary = shapes.summary(kb['monitoring'], name)
        found = (summary.get('image_details') or {}).get(image_id)
        if not found:
            continue
        if found.get('status') == 'active':
            up = shapes.is_up(kb['sites'], name)
            active.append((not up, name, found))
        else:
            others.append('%s at site %s' % (found.get('status'), name))
    return [(name, found) for _, name, found in sorted(active)], others


def register_args(
    kb: dict[str, Any], image_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The ``image.register`` args of an image found at a site."""
    holders, others = _holders(kb, image_id)
    if not holders:
        raise errors.not_found(
            'no site lists image %s as active in its monitoring summary%s: '
            'upload it to a site first (sites report their images every '
            '[exec]monitor_interval)'
            % (image_id, ' (%s)' % ', '.join(others) if others else '')
        )
    origin, found = holders[0]
    contents = {(d.get('size'), d.get('os_hash_value')) for _, d in holders}
    if len(contents) > 1:
        raise errors.conflict(
            'image %s has different contents at sites %s: an image id '
            'must name one content'
            % (image_id, ', '.join(name for name, _ in holders))
        )
    missing = [
        f
        for f in ('size', 'os_hash_algo', 'os_hash_value')
        + ('disk_format', 'container_format')
        if found.get(f) is None
    ]
    if missing:
        raise errors.conflict(
            "site %s's summary of image %s has no %s (the image is still "
            'being written, or the site runs an older sodos)'
            % (origin, image_id, ', '.join(missing))
        )
    args = {
        'image_id': image_id,
        'name': found.get('name') or image_id,
        'origin_site': origin,
        'metadata': _metadata(origin, image_id, found, body),
        'target': body.get('target') or {'kind': 'needed'},
    }
    for key in (
        'size',
        'os_hash_algo',
        'os_hash_value',
        'checksum',
        'disk_format',
        'container_format',
    ):
        args[key] = found.get(key)
    return args


def _metadata(
    origin: str, image_id: str, found: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """The body's metadata, each field it leaves out as the site has it."""
    metadata = {k: found[k] for k in METADATA if found.get(k) is not None}
    try:
        util.validator(kb_schemas.IMAGE_METADATA)(metadata)
    except fastjsonschema.JsonSchemaValueException as exc:
        if not set(METADATA) <= set(body.get('metadata') or {}):
            raise errors.conflict(
                'the metadata of image %s at site %s cannot be distributed '
                '(%s): give it in body.image.metadata'
                % (
                    image_id,
                    origin,
                    exc.message.replace('data', 'metadata', 1),
                )
            ) from None
    metadata.update(body.get('metadata') or {})
    return metadata
