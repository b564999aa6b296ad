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

from oslo_config import cfg

from sodos.conf import base

GROUP = cfg.OptGroup(
    'exec',
    title='Exec',
    help='The Execute role: the only part of sodos that talks to the '
    "site's OpenStack.",
)

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'driver',
        default='simulator',
        help='The Exec driver, a plugin in the namespace '
        'sodos.exec.drivers, that carries out the actions the federation '
        'assigns to this site and gathers its monitoring information.',
    ),
    cfg.FloatOpt(
        'loop_interval',
        default=10.0,
        min=0.05,
        mutable=True,
        help='Seconds between Exec cycles. Each cycle looks for actions '
        'pending for this site; while its KnowMon is cut off from the '
        'Raft quorum, Exec does nothing.',
    ),
    cfg.IntOpt(
        'workers',
        default=8,
        min=1,
        help='Actions carried out at the same time (threads). Actions '
        'for one appliance member always run one after the other.',
    ),
    cfg.IntOpt(
        'action_retries',
        default=3,
        min=0,
        help='Retries of an action after a transient error (API '
        'unreachable, 5xx, timeout), with exponential backoff. '
        'Permanent errors (no valid host, quota, unknown image or '
        'flavor) are recorded at once.',
    ),
    cfg.FloatOpt(
        'retry_delay',
        default=2.0,
        min=0.0,
        help='First backoff delay in seconds; doubled at each retry, '
        'at most 60.',
    ),
    cfg.FloatOpt(
        'server_build_timeout',
        default=600.0,
        min=1.0,
        help='Seconds a server may take to become ACTIVE (or to be '
        'gone, on delete) before the attempt counts as failed.',
    ),
    cfg.FloatOpt(
        'poll_interval',
        default=2.0,
        min=0.01,
        help="Seconds between two looks at a server's state while it "
        'is built or deleted.',
    ),
    cfg.FloatOpt(
        'monitor_interval',
        default=30.0,
        min=0.1,
        mutable=True,
        help="Seconds between two collections of the site's monitoring "
        "(capacity, sodos servers, images, API health). Nova's "
        'notifications trigger one at once (see notifications_url).',
    ),
    cfg.FloatOpt(
        'reconcile_interval',
        default=300.0,
        min=1.0,
        mutable=True,
        help="Seconds between two comparisons of the site's sodos "
        'servers with the placements in the KB (stale ones deleted, '
        'missing ones rebuilt). One also runs when Exec starts and '
        'whenever the site is back in contact with the quorum.',
    ),
    cfg.BoolOpt(
        'servers_in_owner_project',
        default=True,
        help="Build an appliance's servers in the appliance's project "
        "(its owner's), so that the project's quotas, its users' server "
        'lists and billing see them. Exec acts as the [site_auth] user '
        'with its token rescoped to the project; that user needs the '
        'admin role (to list and delete servers of every project) and '
        'is given owner_project_role on each project it builds in. '
        'False: every server in the [site_auth] project, as before.',
    ),
    cfg.StrOpt(
        'owner_project_role',
        default='member',
        help='The role Exec gives the [site_auth] user on the project of '
        'an appliance before it builds there (idempotent). Empty: Exec '
        'grants nothing, the operator gives the user a role on every '
        'project that owns appliances.',
    ),
    cfg.StrOpt(
        'notifications_url',
        secret=True,
        help="Transport URL of the site's OpenStack message bus, where "
        'Nova sends its versioned notifications. When set, Exec listens '
        'there, so a server that goes to ERROR or is deleted by hand is '
        'reported within seconds. Unset: only the periodic collection.',
    ),
    cfg.StrOpt(
        'notifications_topic',
        default='versioned_notifications',
        help="Nova's [notifications]versioned_notifications_topics.",
    ),
    cfg.StrOpt(
        'notifications_exchange',
        default='nova',
        help="The exchange Nova publishes on (Nova's "
        '[DEFAULT]control_exchange).',
    ),
    cfg.StrOpt(
        'notifications_pool',
        default='sodos-exec',
        help='Listener pool: Exec reads its own copy of the '
        'notifications and takes none from other consumers.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
