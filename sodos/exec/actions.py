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

"""What Exec knows how to do: one handler per action kind.

Handlers are plugins in the ``sodos.exec.actions`` namespace, so image
copies and identity sync add their own kinds the same way. A handler
checks its params against its schema, does the work through the site's
driver, and returns a small JSON result for the KB. It must be
idempotent: it may run again for the same action after a retry or an
Exec restart.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any
from typing import ClassVar

import fastjsonschema
from oslo_config import cfg
from stevedore import extension

from sodos import plugins
from sodos.exec.drivers import base as driver
from sodos.exec.images import copy as image_copy
from sodos.exec.networks import attach
from sodos.exec.servers import boot
from sodos.exec.servers import operations as servers
from sodos.kb import schemas

NAMESPACE = 'sodos.exec.actions'


@dataclasses.dataclass
class Context:
    """What a handler may use."""

    conf: cfg.ConfigOpts
    driver: driver.Driver
    site: str
    # Interruptible sleep: True when Exec is stopping.
    stopping: Callable[[float], bool]
    # A member's placement in the KB (None: not placed), read after the
    # action's claim was committed.
    placement: Callable[[str], dict[str, Any] | None]
    # An appliance's spec in the KB (None: deleted), and the KB's
    # identity ID map ({'idmap': ...}): what a server boots with, and
    # in which project (sodos.exec.servers.boot).
    appliance: Callable[[str], dict[str, Any] | None] = lambda _aid: None
    identity: Callable[[], dict[str, Any]] = dict
    # A KB section, or one entry of it (section, key): the appliances'
    # networks (sodos.exec.networks.attach).
    read: Callable[[str, str | None], dict[str, Any]] = lambda s, k: {}


class Handler:
    kind: ClassVar[str]
    schema: ClassVar[dict[str, Any]]

    def __init__(self) -> None:
        self._validate = fastjsonschema.compile(self.schema)

    def check(self, params: dict[str, Any]) -> None:
        try:
            self._validate(params)
        except fastjsonschema.JsonSchemaException as exc:
            raise driver.PermanentError(
                'invalid params for %s: %s' % (self.kind, exc)
            ) from None

    def __call__(self, ctx: Context, action: dict[str, Any]) -> dict[str, Any]:
        self.check(action['params'])
        return self.run(ctx, action['action_id'], action['params'])

    def run(
        self, ctx: Context, action_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        raise NotImplementedError


_MEMBER = {
    'appliance_id': schemas.UUID_HEX,
    'member': schemas.NAME,
}


class CreateServer(Handler):
    """Boot the server of an appliance member placed at this site."""

    kind = 'server.create'
    schema = {
        'type': 'object',
        'properties': dict(
            _MEMBER,
            name=schemas.NAME,
            image={'type': 'string', 'minLength': 1, 'maxLength': 255},
            flavor={'type': 'string', 'minLength': 1, 'maxLength': 255},
        ),
        'required': ['appliance_id', 'member', 'image', 'flavor'],
        'additionalProperties': False,
    }

    def run(
        self, ctx: Context, action_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        key = driver.member_key(params['appliance_id'], params['member'])
        placed = ctx.placement(key)
        if placed is not None and placed['site'] != ctx.site:
            # The federation moved the member while this action waited
            # (this site was cut off, say): building it would run it twice.
            raise driver.PermanentError(
                'superseded: member %s is now placed at site %s'
                % (key, placed['site'])
            )
        spec = boot.request(
            params,
            action_id,
            ctx.appliance(params['appliance_id']),
            ctx.identity(),
            ctx.site,
            ctx.conf.exec.servers_in_owner_project,
        )
        # The networks in the project the server is built in.
        attached = attach.for_member(
            ctx.read,
            ctx.driver,
            ctx.site,
            params['appliance_id'],
            params['member'],
            spec.project_id,
        )
        spec = dataclasses.replace(
            spec,
            networks=tuple(a.network_id for a in attached),
            security_groups=tuple(
                dict.fromkeys(a.security_group_id for a in attached)
            ),
        )
        exec_conf = ctx.conf.exec
        server, created = servers.ensure(
            ctx.driver,
            spec,
            exec_conf.server_build_timeout,
            exec_conf.poll_interval,
            ctx.stopping,
        )
        return {
            'server_id': server.id,
            'status': server.status,
            'created': created,
        }


class DeleteServer(Handler):
    """Delete the member's server(s) at this site and wait until gone."""

    kind = 'server.delete'
    schema = {
        'type': 'object',
        'properties': _MEMBER,
        'required': ['appliance_id', 'member'],
        'additionalProperties': False,
    }

    def run(
        self, ctx: Context, action_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        key = driver.member_key(params['appliance_id'], params['member'])
        exec_conf = ctx.conf.exec
        deleted = servers.remove(
            ctx.driver,
            key,
            exec_conf.server_build_timeout,
            exec_conf.poll_interval,
            ctx.stopping,
        )
        attach.release(
            ctx.read, ctx.driver, ctx.site, exec_conf.servers_in_owner_project
        )
        return {'deleted': deleted}


# Glance image ids: dashed uuids (Glance refuses any other form).
_IMAGE_ID = {
    'type': 'string',
    'pattern': '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-'
    '[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$',
}
_TEXT = {'type': 'string', 'maxLength': 255}
_COUNT = {'type': 'integer', 'minimum': 0}
# Glance reports unset fields as null: a copy leaves them unset too.
_TEXT_OR_NULL = {'type': ['string', 'null'], 'maxLength': 255}
_COUNT_OR_NULL = {'type': ['integer', 'null'], 'minimum': 0}
_PROPERTY = {'type': ['string', 'number', 'boolean'], 'maxLength': 65535}
_IMAGE_METADATA = {
    'type': 'object',
    'properties': {
        'name': _TEXT_OR_NULL,
        'disk_format': _TEXT_OR_NULL,
        'container_format': _TEXT_OR_NULL,
        'min_disk': _COUNT_OR_NULL,
        'min_ram': _COUNT_OR_NULL,
        'visibility': {
            'enum': ['public', 'private', 'shared', 'community', None]
        },
        'protected': {'type': ['boolean', 'null']},
        'owner': _TEXT_OR_NULL,
        'tags': {'type': 'array', 'items': _TEXT, 'maxItems': 128},
        'properties': {
            'type': 'object',
            'maxProperties': 128,
            'propertyNames': {'minLength': 1, 'maxLength': 255},
            'additionalProperties': _PROPERTY,
        },
    },
    'additionalProperties': False,
}


class CopyImage(Handler):
    """Copy an image from another site into this site's Glance.

    The image keeps its id and metadata; its bytes are checked against
    ``expected`` while they stream from the source's relay, or once the
    site's Glance fetched them itself (sodos.exec.images.copy).
    """

    kind = 'image.copy'
    schema = {
        'type': 'object',
        'properties': {
            'image_id': _IMAGE_ID,
            'source_site': schemas.NAME,
            'source_url': {
                'type': 'string',
                'pattern': '^https?://',
                'maxLength': 1024,
            },
            'expected': {
                'type': 'object',
                'properties': {
                    'size': _COUNT,
                    'os_hash_algo': {
                        'type': ['string', 'null'],
                        'maxLength': 64,
                    },
                    'os_hash_value': {
                        'type': 'string',
                        'pattern': '^[0-9a-fA-F]{32,128}$',
                    },
                    'checksum': {'type': ['string', 'null']},
                },
                'required': ['size', 'os_hash_value'],
                'additionalProperties': False,
            },
            'metadata': _IMAGE_METADATA,
        },
        'required': [
            'image_id',
            'source_site',
            'source_url',
            'expected',
            'metadata',
        ],
        'additionalProperties': False,
    }

    def run(
        self, ctx: Context, action_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        return image_copy.copy(
            ctx.conf, ctx.driver, ctx.site, params, wait=ctx.stopping
        )


class DeleteImage(Handler):
    """Delete this site's copy of an image (its id is burnt here)."""

    kind = 'image.delete'
    schema = {
        'type': 'object',
        'properties': {'image_id': _IMAGE_ID},
        'required': ['image_id'],
        'additionalProperties': False,
    }

    def run(
        self, ctx: Context, action_id: str, params: dict[str, Any]
    ) -> dict[str, Any]:
        return {'deleted': ctx.driver.delete_image(params['image_id'])}


def load_handlers() -> dict[str, Handler]:
    """Every installed handler, by the action kind it carries out."""
    manager: extension.ExtensionManager = extension.ExtensionManager(
        NAMESPACE,
        invoke_on_load=True,
        on_load_failure_callback=plugins.raise_load_failure,
    )
    return {ext.name: typing.cast(Handler, ext.obj) for ext in manager}
