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

"""JSON schemas of the arguments of every Knowledge Base command.

One entry per command type. Changing the meaning of an entry means bumping
:data:`sodos.kb.commands.SCHEMA_VERSION`.
"""

from typing import Any

from sodos.domain.schemas import NAME
from sodos.identity import key_schemas
from sodos.identity import schemas as identity_schemas

# host:port, host being a name, an IPv4 address or a bracketed IPv6 one.
ADDRESS: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^([A-Za-z0-9_.\-]+|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$',
}
UUID_HEX: dict[str, Any] = {'type': 'string', 'pattern': '^[0-9a-f]{32}$'}
SMALL_TEXT: dict[str, Any] = {'type': 'string', 'maxLength': 1024}
# Free-form JSON objects are bounded so that one command stays small: the
# Raft log is replayed by every member and entries above ~1 MB stall the
# leader's single thread (doc/source/contributor/design-notes.rst,
# "Large entries").
OBJECT: dict[str, Any] = {'type': 'object', 'maxProperties': 256}
# Placements (and removals) in one plan.apply command: a plan is cut in
# chunks of this size, each a few hundred KB at most.
PLAN_CHUNK = 200


def _obj(required: list[str], **props: Any) -> dict[str, Any]:
    return {
        'type': 'object',
        'properties': props,
        'required': required,
        'additionalProperties': False,
    }


_NUMBER: dict[str, Any] = {'type': 'number', 'minimum': 0, 'maximum': 1e9}
# An operator's overrides of a site's published profile (the
# [site_profile] options): kept apart from the published one, so that
# they survive the site's next site.register.
PROFILE: dict[str, Any] = {
    'type': 'object',
    'additionalProperties': False,
    'minProperties': 1,
    'properties': {
        'region': {'type': 'string', 'minLength': 1, 'maxLength': 255},
        # LATITUDE,LONGITUDE in degrees, as [site_profile]location.
        'location': {
            'type': 'string',
            'pattern': r'^-?[0-9]{1,2}(\.[0-9]+)?,-?[0-9]{1,3}(\.[0-9]+)?$',
        },
        'labels': {
            'type': 'object',
            'maxProperties': 64,
            'propertyNames': {
                'type': 'string',
                'minLength': 1,
                'maxLength': 255,
            },
            'additionalProperties': {'type': 'string', 'maxLength': 255},
        },
        'cost_per_vcpu_hour': _NUMBER,
        'carbon_intensity': _NUMBER,
        'pue': {'type': 'number', 'minimum': 1, 'maximum': 10},
        'idle_power_kw': _NUMBER,
    },
}


ARGS: dict[str, dict[str, Any]] = {
    'federation.init': _obj(
        ['federation_id', 'voter_count'],
        federation_id=UUID_HEX,
        voter_count={'enum': [1, 3, 5, 7]},
    ),
    'leader.claim': _obj(['site'], site=NAME),
    'site.register': _obj(
        ['site', 'address'],
        site=NAME,
        address=ADDRESS,
        roles={'type': 'array', 'items': NAME, 'maxItems': 16},
        info=OBJECT,
    ),
    'site.leave': _obj(['site'], site=NAME),
    'site.status': _obj(
        ['site', 'status'],
        site=NAME,
        status={'enum': ['up', 'down']},
        reason=SMALL_TEXT,
    ),
    'member.role': _obj(
        ['site', 'role', 'voters'],
        site=NAME,
        role={'enum': ['voter', 'readonly']},
        voters={'type': 'array', 'items': ADDRESS, 'maxItems': 15},
    ),
    'membership.lock': _obj(
        ['change_id', 'owner', 'ttl'],
        change_id=UUID_HEX,
        owner=NAME,
        description=SMALL_TEXT,
        ttl={'type': 'number', 'exclusiveMinimum': 0, 'maximum': 3600},
    ),
    'membership.unlock': _obj(['change_id'], change_id=UUID_HEX),
    'policy.set': _obj(
        ['key', 'value'],
        key={'enum': ['voter_count', 'paused', 'consolidate']},
        value={},
    ),
    'monitoring.report': _obj(['site', 'summary'], site=NAME, summary=OBJECT),
    'alert.raise': _obj(
        ['alert_id', 'site', 'kind', 'severity', 'message'],
        alert_id=UUID_HEX,
        site=NAME,
        kind=NAME,
        severity={'enum': ['info', 'warning', 'critical']},
        message=SMALL_TEXT,
    ),
    'alert.close': _obj(['alert_id'], alert_id=UUID_HEX, reason=SMALL_TEXT),
    'appliance.put': _obj(
        ['appliance_id', 'spec'], appliance_id=UUID_HEX, spec=OBJECT
    ),
    'appliance.delete': _obj(['appliance_id'], appliance_id=UUID_HEX),
    'placement.set': _obj(
        ['appliance_id', 'member', 'site'],
        appliance_id=UUID_HEX,
        member=NAME,
        site=NAME,
        info=OBJECT,
    ),
    'placement.delete': _obj(
        ['appliance_id', 'member'], appliance_id=UUID_HEX, member=NAME
    ),
    'action.put': _obj(
        ['action_id', 'site', 'kind', 'params'],
        action_id=UUID_HEX,
        site=NAME,
        kind=NAME,
        params=OBJECT,
    ),
    'plan.apply': _obj(
        ['plan_id'],
        plan_id=UUID_HEX,
        placements={
            'type': 'array',
            'maxItems': PLAN_CHUNK,
            'items': _obj(
                ['appliance_id', 'member', 'site'],
                appliance_id=UUID_HEX,
                member=NAME,
                site=NAME,
                info=OBJECT,
            ),
        },
        removals={
            'type': 'array',
            'maxItems': PLAN_CHUNK,
            'items': _obj(
                ['appliance_id', 'member'], appliance_id=UUID_HEX, member=NAME
            ),
        },
        actions={
            'type': 'array',
            'maxItems': 2 * PLAN_CHUNK,
            'items': _obj(
                ['action_id', 'site', 'kind', 'params'],
                action_id=UUID_HEX,
                site=NAME,
                kind=NAME,
                params=OBJECT,
            ),
        },
        summary=SMALL_TEXT,
    ),
    'site.maintenance': _obj(
        ['site', 'state'],
        site=NAME,
        state={'enum': ['', 'draining', 'drained']},
        reason=SMALL_TEXT,
    ),
    'action.prune': _obj(
        ['ended_before'], ended_before={'type': 'number', 'minimum': 0}
    ),
    'action.update': _obj(
        ['action_id', 'state'],
        action_id=UUID_HEX,
        state={'enum': ['running', 'done', 'failed']},
        result=OBJECT,
    ),
    'alert.ack': _obj(
        ['alert_id', 'by'],
        alert_id=UUID_HEX,
        by={'type': 'string', 'minLength': 1, 'maxLength': 255},
        comment=SMALL_TEXT,
    ),
    'site.profile': _obj(['site', 'profile'], site=NAME, profile=PROFILE),
}

# The image registry (sodos.kb.images). A Glance image ID is a dashed
# uuid, kept at every site: the image has the same ID everywhere.
IMAGE_ID: dict[str, Any] = {
    'type': 'string',
    'pattern': '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
    '[0-9a-f]{12}$',
}
_STR255: dict[str, Any] = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_FORMAT: dict[str, Any] = {'type': 'string', 'pattern': '^[a-z0-9]{1,16}$'}
IMAGE_TARGET: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'kind': {'enum': ['all', 'sites', 'labels', 'needed']},
        'sites': {
            'type': 'array',
            'items': NAME,
            'maxItems': 1000,
            'uniqueItems': True,
        },
        'labels': {
            'type': 'object',
            'maxProperties': 64,
            'additionalProperties': {'type': 'string', 'maxLength': 255},
        },
    },
    'required': ['kind'],
    'additionalProperties': False,
    'allOf': [
        {
            'if': {'properties': {'kind': {'const': kind}}},
            'then': {
                'required': [field],
                'properties': {field: {'minItems': 1, 'minProperties': 1}},
            },
        }
        for kind, field in (('sites', 'sites'), ('labels', 'labels'))
    ],
}
IMAGE_METADATA: dict[str, Any] = _obj(
    [],
    min_disk={'type': 'integer', 'minimum': 0},
    min_ram={'type': 'integer', 'minimum': 0},
    visibility={'enum': ['public', 'private', 'shared', 'community']},
    tags={'type': 'array', 'items': _STR255, 'maxItems': 64},
    properties={
        'type': 'object',
        'maxProperties': 128,
        'additionalProperties': {'type': 'string', 'maxLength': 255},
    },
)
ARGS.update(
    {
        'image.register': _obj(
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
            image_id=IMAGE_ID,
            name=_STR255,
            disk_format=_FORMAT,
            container_format=_FORMAT,
            size={'type': 'integer', 'minimum': 0},
            os_hash_algo={'type': 'string', 'pattern': '^[a-z0-9_]{1,32}$'},
            os_hash_value={'type': 'string', 'pattern': '^[0-9a-f]{8,256}$'},
            checksum={
                'type': ['string', 'null'],
                'pattern': '^[0-9a-f]{32}$',
            },
            metadata=IMAGE_METADATA,
            origin_site=NAME,
            target=IMAGE_TARGET,
        ),
        'image.distribute': _obj(
            ['image_id', 'target'], image_id=IMAGE_ID, target=IMAGE_TARGET
        ),
        'image.delete': _obj(['image_id'], image_id=IMAGE_ID),
        # Made by the AnalysePlan leader: a site that can never get the
        # image under its ID, and an entry whose copies are all gone.
        'image.site_failed': _obj(
            ['image_id', 'site', 'reason'],
            image_id=IMAGE_ID,
            site=NAME,
            reason=SMALL_TEXT,
        ),
        'image.purge': _obj(['image_id'], image_id=IMAGE_ID),
    }
)

# The identity commands (sodos.kb.identity).
ARGS.update(identity_schemas.ARGS)
# Shared identity: fernet keys and revocations (sodos.kb.identity_keys).
ARGS.update(key_schemas.ARGS)

# A site's catalog (sodos.kb.catalog), written by the site itself.
CATALOG_ENDPOINT: dict[str, Any] = _obj(
    ['service_type', 'service_name', 'interface', 'region', 'url'],
    service_type=_STR255,
    service_name={'type': 'string', 'maxLength': 255},
    interface={'enum': ['public', 'internal', 'admin']},
    region={'type': 'string', 'maxLength': 255},
    url={'type': 'string', 'pattern': '^https?://', 'maxLength': 1024},
)
ARGS['site.catalog'] = _obj(
    ['site', 'endpoints'],
    site=NAME,
    endpoints={'type': 'array', 'items': CATALOG_ENDPOINT, 'maxItems': 500},
)

# Values accepted for each federation-wide policy key.
POLICY_VALUES: dict[str, Any] = {
    'voter_count': {'enum': [1, 3, 5, 7]},
    'paused': {'type': 'boolean'},
    'consolidate': {'type': 'boolean'},
}
