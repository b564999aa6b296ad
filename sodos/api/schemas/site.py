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

from typing import Any

from sodos.api.schemas import common
from sodos.kb import schemas as kb_schemas

_PROFILE = kb_schemas.PROFILE['properties']

DRAIN = common.obj(reason=common.TEXT)
UNDRAIN = common.EMPTY
# Overrides of the site's published profile; each property replaces the
# published value (labels as a whole); null takes the override back.
_OVERRIDES: dict[str, Any] = {
    'labels': _PROFILE['labels'],
    'region': _PROFILE['region'],
    'location': common.obj(
        ['lat', 'lon'],
        lat={'type': 'number', 'minimum': -90, 'maximum': 90},
        lon={'type': 'number', 'minimum': -180, 'maximum': 180},
    ),
    'cost_per_vcpu_hour': _PROFILE['cost_per_vcpu_hour'],
    'carbon_intensity': _PROFILE['carbon_intensity'],
    'pue': _PROFILE['pue'],
    'idle_power_kw': _PROFILE['idle_power_kw'],
    # Its own rule too: sodos.api.policies.owner.SET_SITE_OWNER.
    'owner': _PROFILE['owner'],
}


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    # A type list rather than anyOf: the keywords of the schema apply to
    # values of its type only, and a bad value's error keeps naming the
    # deepest field (body.location.lat), as anyOf's would not.
    return dict(schema, type=[schema['type'], 'null'])


UPDATE: dict[str, Any] = dict(
    common.obj(None, **{k: _or_null(v) for k, v in _OVERRIDES.items()}),
    minProperties=1,
)
