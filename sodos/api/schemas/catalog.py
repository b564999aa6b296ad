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

"""The query of ``GET /v1/catalog``: each filter as the KB stores it."""

from typing import Any

from sodos.api.schemas import common
from sodos.kb import schemas as kb_schemas

_ENDPOINT = kb_schemas.CATALOG_ENDPOINT['properties']

LIST_QUERY: dict[str, Any] = common.obj(
    region=dict(_ENDPOINT['region'], minLength=1),
    service_type=_ENDPOINT['service_type'],
    site=common.NAME,
)
