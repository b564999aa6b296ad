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

"""Options of the identity feature: one set of credentials at every site.

The desired projects, users, groups and role assignments live in the
Knowledge Base; each site's Exec converges its own Keystone to them.
What differs between sites (which local objects must never be touched)
is configured here; what the federation wants is in the KB.
"""

from oslo_config import cfg

from sodos.conf import base

GROUP = cfg.OptGroup(
    'identity',
    title='Identity',
    help="How this site's Exec keeps its Keystone in line with the "
    "federation's identity (projects, users, groups, role assignments).",
)

# Bootstrap and service accounts of a usual OpenStack site.
DEFAULT_PROTECTED_USERS = [
    'admin',
    'nova',
    'glance',
    'placement',
    'neutron',
    'cinder',
    'swift',
    'heat',
    'barbican',
    'octavia',
    'sodos',
]

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'mode',
        default='api',
        choices=[
            (
                'api',
                "Through the site's Keystone API only: same names at "
                'every site, local IDs (kept in the KB ID map), one set of '
                'credentials, one token per site.',
            ),
            (
                'shared',
                'Keystone database writer and shared fernet keys: '
                'same IDs everywhere, one token for every site. Needs '
                'keystone_database_connection and fernet_key_repository.',
            ),
            ('off', "Exec does not manage this site's identity."),
        ],
        help='How the federation identity reaches this site.',
    ),
    cfg.StrOpt(
        'secret',
        secret=True,
        help='The federation identity secret, the same at every site: '
        'passwords are stored in the Knowledge Base encrypted with a key '
        'derived from it, and each site decrypts them to set them in its '
        'Keystone. Without it, users can be managed but not their '
        'passwords. Changing it makes the stored passwords unreadable: '
        'set them again.',
    ),
    cfg.FloatOpt(
        'sync_interval',
        default=10.0,
        min=0.1,
        mutable=True,
        help='Seconds between two looks at the identity section of the '
        'KB. A change (or a failed last pass) starts a pass that '
        "converges the site's Keystone to it. Exec running beside the "
        "site's KB member (sodos-site) also looks as soon as a change "
        'is applied.',
    ),
    cfg.FloatOpt(
        'audit_interval',
        default=300.0,
        min=1.0,
        mutable=True,
        help='Seconds between two full passes (which read the whole '
        'identity of the site; a pass for a change of the KB starts from '
        "the last pass's view) even when the KB did not "
        "change: the site's Keystone is compared with the desired state "
        'and hand edits (drift) are repaired and raised as alerts. A '
        'password changed by hand cannot be seen through the API: set '
        'it again from the federation to repair it.',
    ),
    cfg.StrOpt(
        'keystone_database_connection',
        secret=True,
        help="SQLAlchemy URL of this site's Keystone database (shared "
        "mode only). Exec writes the federation's domains, projects, "
        'users (with password hashes), groups, memberships, role '
        'assignments and revocation events there with the same IDs as '
        'every other site, and refuses to run against a Keystone schema '
        'version it does not know. Its user needs SELECT, INSERT, UPDATE '
        "and DELETE on Keystone's tables. With Keystone's [cache] enabled, "
        'a change shows once its cache entries expire.',
    ),
    cfg.StrOpt(
        'fernet_key_repository',
        help="This site's Keystone [fernet_tokens]key_repository (shared "
        "mode only). Exec replaces its contents with the federation's "
        'keys (atomically) and reports which keys it holds; the user '
        'Exec runs as must be able to write it, and Keystone to read it.',
    ),
    cfg.FloatOpt(
        'fernet_rotation_interval',
        default=86400.0,
        min=5.0,
        mutable=True,
        help="Seconds between two rotations of the federation's fernet "
        'keys (shared mode). The leader rotates only once every site up '
        'holds the current keys (lock-step), so a slow site delays the '
        'rotation rather than breaking its tokens.',
    ),
    cfg.IntOpt(
        'fernet_max_active_keys',
        default=5,
        min=3,
        help='Keys kept in the federation repository: the staged key, the '
        'primary key and the secondary keys. Keep it at least token '
        'expiration / rotation interval + 2, the same at every site, as '
        "Keystone's own [fernet_tokens]max_active_keys.",
    ),
    cfg.FloatOpt(
        'revocation_sync_interval',
        default=2.0,
        min=0.1,
        mutable=True,
        help="Seconds between two looks at this site's Keystone "
        'revocation events (shared mode): new ones are copied into the '
        'KB, and those of the other sites into this Keystone, so a token '
        'revoked at one site is refused at every site.',
    ),
    cfg.ListOpt(
        'protected_domains',
        default=['default'],
        help='Domain IDs or names never created, changed or deleted by '
        'sodos (their contents are managed).',
    ),
    cfg.ListOpt(
        'protected_projects',
        default=['admin', 'service'],
        help='Project names never created, changed or deleted by sodos, '
        'nor their role assignments.',
    ),
    cfg.ListOpt(
        'protected_users',
        default=DEFAULT_PROTECTED_USERS,
        help='User names never created, changed or deleted by sodos, '
        'nor their role assignments or group memberships. The '
        '[site_auth]username Exec logs in with is always protected.',
    ),
    cfg.ListOpt(
        'protected_groups',
        default=['admins', 'service'],
        help='Group names never created, changed or deleted by sodos.',
    ),
    cfg.BoolOpt(
        'publish_remote_endpoints',
        default=None,
        mutable=True,
        help="Make this site's Keystone list every other site's region "
        'and public endpoints (regions described "sodos: site NAME"), so '
        'that a token of this site finds them (--os-region-name, '
        "Glance's glance-download). Unset: on when [identity]mode is "
        'shared, off otherwise. Turned off, Exec removes the regions it '
        'made; it never touches the others. As in any multi-region '
        "Keystone, the site's services must name their region "
        '(region_name in their Keystone sections), and Exec its own '
        '([site_auth]region_name, or nothing is listed).',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
