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

"""JSON schema parts the Knowledge Base commands and the API share.

Each command declares the schema of its arguments beside its applier
(:mod:`sodos.kb.sections`), built from these parts. Changing the meaning
of one means bumping :data:`sodos.kb.commands.SCHEMA_VERSION`.
"""

from typing import Any

from sodos.domain import community
from sodos.domain.schemas import NAME

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


def obj(required: list[str], **props: Any) -> dict[str, Any]:
    """An object with exactly the properties given, ``required`` among them."""
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
        # [site_profile]owner: the Keystone domain owning the site.
        'owner': community.OWNER,
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


# The image registry (sodos.kb.sections.images). A Glance image ID is a
# dashed uuid, kept at every site: the image has the same ID everywhere.
IMAGE_ID: dict[str, Any] = {
    'type': 'string',
    'pattern': '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
    '[0-9a-f]{12}$',
}
TEXT255: dict[str, Any] = {'type': 'string', 'minLength': 1, 'maxLength': 255}
IMAGE_FORMAT: dict[str, Any] = {
    'type': 'string',
    'pattern': '^[a-z0-9]{1,16}$',
}
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
IMAGE_METADATA: dict[str, Any] = obj(
    [],
    min_disk={'type': 'integer', 'minimum': 0},
    min_ram={'type': 'integer', 'minimum': 0},
    visibility={'enum': ['public', 'private', 'shared', 'community']},
    tags={'type': 'array', 'items': TEXT255, 'maxItems': 64},
    properties={
        'type': 'object',
        'maxProperties': 128,
        'additionalProperties': {'type': 'string', 'maxLength': 255},
    },
)
# One endpoint of a site's catalog (sodos.kb.sections.catalog).
CATALOG_ENDPOINT: dict[str, Any] = obj(
    ['service_type', 'service_name', 'interface', 'region', 'url'],
    service_type=TEXT255,
    service_name={'type': 'string', 'maxLength': 255},
    interface={'enum': ['public', 'internal', 'admin']},
    region={'type': 'string', 'maxLength': 255},
    url={'type': 'string', 'pattern': '^https?://', 'maxLength': 1024},
)
