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

# Glance's own field names: the image to register is found at a site by
# its id; name, formats, size and hash come from there.
CREATE: dict[str, Any] = common.obj(
    ['image'],
    image=common.obj(
        ['id'],
        id=kb_schemas.IMAGE_ID,
        target=kb_schemas.IMAGE_TARGET,
        metadata=kb_schemas.IMAGE_METADATA,
    ),
)
SET_TARGET: dict[str, Any] = common.obj(
    ['target'], target=kb_schemas.IMAGE_TARGET
)
