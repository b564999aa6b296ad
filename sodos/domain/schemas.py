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

"""JSON schema pieces shared by the KB's commands and the domain's specs.

They live below the KB so that an appliance spec is checked with the
same rules as the commands that carry it, without the domain importing
the KB (:mod:`sodos.kb.schemas` takes them from here).
"""

from typing import Any

# The names of sites, members, roles and kinds: 63 characters at most,
# letters, digits and ``_.-``, not starting with a punctuation mark.
NAME: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$',
}
