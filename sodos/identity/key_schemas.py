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

"""JSON schema parts of the shared-identity commands: keys, revocations.

The commands are declared in :mod:`sodos.kb.sections.identity_keys`; the
same rules apply (a change of meaning bumps
:data:`sodos.kb.commands.SCHEMA_VERSION`).
"""

from typing import Any

from sodos.identity import schemas as identity_schemas

SHA256: dict[str, Any] = {'type': 'string', 'pattern': '^[0-9a-f]{64}$'}
# One key of a repository, encrypted by the proposer like a password
# (sodos.identity.crypto): a plaintext fernet key (44 characters) cannot
# match the ciphertext pattern.
SEALED_KEY: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'ciphertext': identity_schemas.PASSWORD['properties']['ciphertext'],
        'key_id': identity_schemas.PASSWORD['properties']['key_id'],
        'fingerprint': SHA256,
    },
    'required': ['ciphertext', 'key_id', 'fingerprint'],
    'additionalProperties': False,
}
# Keystone's max_active_keys is a small number; 64 keys are a few KB.
REPO: dict[str, Any] = {
    'type': 'object',
    'propertyNames': {'pattern': '^(0|[1-9][0-9]{0,8})$'},
    'additionalProperties': SEALED_KEY,
    'required': ['0'],
    'minProperties': 2,
    'maxProperties': 64,
}
# UTC, always with microseconds, so that text order is time order.
TIMESTAMP: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
    r'\.[0-9]{6}$',
}
_ID64: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[^\x00-\x1f\x7f]{1,64}$',
}
_ID32: dict[str, Any] = {
    'type': 'string',
    'pattern': r'^[^\x00-\x1f\x7f]{1,32}$',
}
# A row of Keystone's revocation_event table, without its local id.
REVOCATION_EVENT: dict[str, Any] = {
    'type': 'object',
    'properties': {
        'domain_id': _ID64,
        'project_id': _ID64,
        'user_id': _ID64,
        'role_id': _ID64,
        'trust_id': _ID64,
        'consumer_id': _ID64,
        'access_token_id': _ID64,
        'issued_before': TIMESTAMP,
        'expires_at': TIMESTAMP,
        'revoked_at': TIMESTAMP,
        'audit_id': _ID32,
        'audit_chain_id': _ID32,
    },
    'required': ['issued_before', 'revoked_at'],
    'additionalProperties': False,
}
# Events in one identity.revocation.add command.
EVENTS_CHUNK = 200
