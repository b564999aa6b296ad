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

"""JSON schema parts of the identity commands of the Knowledge Base.

The commands (:mod:`sodos.kb.sections.identity`,
:mod:`sodos.kb.sections.adoption`) and the API build on them; the same
rules apply (a change of meaning bumps
:data:`sodos.kb.commands.SCHEMA_VERSION`).
"""

from typing import Any

# The ids sodos gives: uuid4 hex, Keystone's own format for an explicit
# domain id.
GLOBAL_ID: dict[str, Any] = {'type': 'string', 'pattern': '^[0-9a-f]{32}$'}
DOMAIN_REF: dict[str, Any] = {
    'type': 'string',
    'pattern': '^([0-9a-f]{32}|default)$',
}
# Keystone allows up to 255 characters (64 for a domain); sodos keeps to
# printable names without a leading or trailing blank or a slash (its
# own key separator).
ENTITY_NAME: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[^\s/\x00-\x1f\x7f]'
    r'([^/\x00-\x1f\x7f]{0,62}[^\s/\x00-\x1f\x7f])?$',
}
ROLE_NAME: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9_][A-Za-z0-9_.:\-]{0,63}$',
}
DESCRIPTION: dict[str, Any] = {'type': 'string', 'maxLength': 255}
EMAIL: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[^@\s]{1,128}@[^@\s]{1,126}$',
}
SITE: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}$',
}
# A password, encrypted by the proposer (sodos.identity.crypto): a
# plaintext cannot match the Fernet token pattern.
PASSWORD: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'ciphertext': {
            'type': 'string',
            'pattern': '^gAAAAA[A-Za-z0-9_=-]{50,4000}$',
        },
        'key_id': {'type': 'string', 'pattern': '^[0-9a-f]{16}$'},
    },
    'required': ['ciphertext', 'key_id'],
    'additionalProperties': False,
}
KIND: dict[str, Any] = {'enum': ['projects', 'users', 'groups']}
# A site's own id of an object (what Keystone 30 and LDAP backends give).
LOCAL_ID: dict[str, Any] = {
    'type': 'string',
    'pattern': '^[0-9A-Za-z_\\-]{1,64}$',
}
# Why an adoption failed, or what to know about one that was done.
ADOPTION_TEXT: dict[str, Any] = {'type': 'string', 'maxLength': 1024}
