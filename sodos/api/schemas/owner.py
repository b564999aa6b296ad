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

"""The body of PATCH /v1/owners/{owner}: fields of the sharing policy
(sodos.domain.community), each null to take it back."""

from typing import Any

from sodos.api.schemas import common
from sodos.domain import community

_FIELDS = community.POLICY_SCHEMA['properties']


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    kinds = schema['type']
    kinds = list(kinds) if isinstance(kinds, list) else [kinds]
    return dict(schema, type=sorted(set(kinds) | {'null'}))


UPDATE: dict[str, Any] = dict(
    common.obj(None, **{k: _or_null(v) for k, v in _FIELDS.items()}),
    minProperties=1,
)
