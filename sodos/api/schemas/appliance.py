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

from sodos.api.schemas import common
from sodos.domain import appliance

CREATE = common.obj(['appliance'], appliance=appliance.SCHEMA)
# A merge patch of the spec (sodos.domain.appliance_update): its keys
# are the spec's; the values are checked once merged, by the spec's
# own schema.
UPDATE = common.obj(
    ['appliance'],
    appliance={
        'type': 'object',
        'minProperties': 1,
        'additionalProperties': False,
        'properties': {key: {} for key in appliance.SCHEMA['properties']},
    },
)
