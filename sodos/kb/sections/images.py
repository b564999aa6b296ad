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

"""The image registry: which images the federation distributes, and where.

An entry names one image content by its Glance ID, kept at every site, and
the hash every copy must have. Its *target* says where it should be:

* ``all``: every site of the federation;
* ``sites``: the sites listed;
* ``labels``: the sites whose profile carries all the labels given;
* ``needed``: only where an appliance member using it is placed, plus the
  sites its members would move to if their site failed (pre-staging).

Wherever the target says, a member placed on a site also needs its image
there. Where the image is present is not stored here: each site's
monitoring summary says what its Glance holds, and the AnalysePlan leader
(:mod:`sodos.analyseplan.images`) issues the copies that are missing.

Commands:

* ``image.register``: add an entry; replaying it changes nothing, and a
  second register of the same ID may change its name, metadata and
  target but never its content (size and hash);
* ``image.distribute``: change the target;
* ``image.delete``: the entry turns ``deleting``, the leader removes every
  copy, then ``image.purge`` drops the entry;
* ``image.site_failed``: a site that cannot get the image under its ID
  any more (Glance never reuses the ID of a deleted image at a site).

The appliers are deterministic, as every applier
(:mod:`sodos.kb.sections.base`).
"""

from __future__ import annotations

from typing import Any

from sodos.kb import schemas
from sodos.kb.sections import base

COMMANDS = base.Family()
# What names one image content: an ID never changes its bytes.
CONTENT = ('size', 'os_hash_algo', 'os_hash_value')
# What a second image.register may change.
MUTABLE = ('name', 'disk_format', 'container_format', 'checksum', 'metadata')


def _images(data: dict[str, Any]) -> dict[str, Any]:
    # A state snapshotted before the registry existed has no section yet.
    found: dict[str, Any] = data.setdefault('images', {})
    return found


def _known(data: dict[str, Any], image_id: str) -> dict[str, Any]:
    """The registered image, being deleted or not."""
    entry: dict[str, Any] | None = _images(data).get(image_id)
    if entry is None:
        raise base.Rejected('unknown image %s' % image_id)
    return entry


def _entry(data: dict[str, Any], image_id: str) -> dict[str, Any]:
    """The registered image, unless it is being deleted."""
    entry = _known(data, image_id)
    if entry['state'] == 'deleting':
        raise base.Rejected(
            'image %s is being deleted: register the image again under '
            'a new ID' % image_id
        )
    return entry


def target(data: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The target as stored: only the fields its kind uses, sorted."""
    kind = given['kind']
    if kind == 'sites':
        unknown = sorted(set(given['sites']) - set(data['sites']))
        if unknown:
            raise base.Rejected(
                'target: unknown site(s) %s' % ', '.join(unknown)
            )
        return {'kind': kind, 'sites': sorted(given['sites'])}
    if kind == 'labels':
        return {'kind': kind, 'labels': dict(sorted(given['labels'].items()))}
    return {'kind': kind}


@COMMANDS.command(
    'image.register',
    schemas.obj(
        [
            'image_id',
            'name',
            'disk_format',
            'container_format',
            'size',
            'os_hash_algo',
            'os_hash_value',
            'origin_site',
        ],
        image_id=schemas.IMAGE_ID,
        name=schemas.TEXT255,
        disk_format=schemas.IMAGE_FORMAT,
        container_format=schemas.IMAGE_FORMAT,
        size={'type': 'integer', 'minimum': 0},
        os_hash_algo={'type': 'string', 'pattern': '^[a-z0-9_]{1,32}$'},
        os_hash_value={'type': 'string', 'pattern': '^[0-9a-f]{8,256}$'},
        checksum={
            'type': ['string', 'null'],
            'pattern': '^[0-9a-f]{32}$',
        },
        metadata=schemas.IMAGE_METADATA,
        origin_site=schemas.NAME,
        target=schemas.IMAGE_TARGET,
    ),
)
def _image_register(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    args = cmd['args']
    image_id = args['image_id']
    if args['origin_site'] not in data['sites']:
        raise base.Rejected('unknown origin site %r' % args['origin_site'])
    old = _images(data).get(image_id)
    if old is not None:
        _entry(data, image_id)
        differs = [k for k in CONTENT if old[k] != args[k]]
        if differs:
            raise base.Rejected(
                'image %s is registered with another %s: an image ID names '
                'one content, register the new one under a new ID'
                % (image_id, ' and '.join(differs))
            )
    # Fields left out of a second register keep their value.
    record = {k: args[k] for k in MUTABLE if k in args}
    if 'target' in args:
        record['target'] = target(data, args['target'])
    if old is not None:
        changed = {k: v for k, v in record.items() if old.get(k) != v}
        if changed:
            old.update(changed, updated_at=cmd['ts'])
        return {'created': False, 'changed': bool(changed)}
    record = dict(
        {'checksum': None, 'metadata': {}, 'target': {'kind': 'needed'}},
        **record,
    )
    record.update(
        {key: args[key] for key in CONTENT},
        id=image_id,
        origin_site=args['origin_site'],
        state='active',
        failed_sites={},
        created_at=cmd['ts'],
        updated_at=cmd['ts'],
    )
    _images(data)[image_id] = record
    return {'created': True}


@COMMANDS.command(
    'image.distribute',
    schemas.obj(
        ['image_id', 'target'],
        image_id=schemas.IMAGE_ID,
        target=schemas.IMAGE_TARGET,
    ),
)
def _image_distribute(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    args = cmd['args']
    entry = _entry(data, args['image_id'])
    wanted = target(data, args['target'])
    if entry['target'] == wanted:
        return {'changed': False}
    entry.update(target=wanted, updated_at=cmd['ts'])
    return {'changed': True}


@COMMANDS.command(
    'image.delete', schemas.obj(['image_id'], image_id=schemas.IMAGE_ID)
)
def _image_delete(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    entry = _known(data, cmd['args']['image_id'])
    if entry['state'] == 'deleting':
        return {'changed': False}
    entry.update(state='deleting', updated_at=cmd['ts'], deleted_at=cmd['ts'])
    return {'changed': True}


# Made by the AnalysePlan leader: a site that can never get the image
# under its ID.
@COMMANDS.command(
    'image.site_failed',
    schemas.obj(
        ['image_id', 'site', 'reason'],
        image_id=schemas.IMAGE_ID,
        site=schemas.NAME,
        reason=schemas.SMALL_TEXT,
    ),
)
def _image_site_failed(
    data: dict[str, Any], cmd: dict[str, Any]
) -> base.Result:
    args = cmd['args']
    entry = _known(data, args['image_id'])
    if args['site'] not in data['sites']:
        raise base.Rejected('unknown site %r' % args['site'])
    failed = entry.setdefault('failed_sites', {})
    if args['site'] in failed:
        return {'changed': False}
    failed[args['site']] = {'reason': args['reason'], 'at': cmd['ts']}
    entry['updated_at'] = cmd['ts']
    return {'changed': True}


# Made by the AnalysePlan leader: an entry whose copies are all gone.
@COMMANDS.command(
    'image.purge', schemas.obj(['image_id'], image_id=schemas.IMAGE_ID)
)
def _image_purge(data: dict[str, Any], cmd: dict[str, Any]) -> base.Result:
    image_id = cmd['args']['image_id']
    entry = _images(data).get(image_id)
    if entry is None:
        return {'purged': False}
    if entry['state'] != 'deleting':
        raise base.Rejected(
            'image %s is not being deleted: delete it first' % image_id
        )
    del _images(data)[image_id]
    return {'purged': True}
