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

import socket

from oslo_config import cfg

ROLES_OPT = cfg.ListOpt(
    'roles',
    default=['knowmon', 'exec', 'analyseplan'],
    help='The roles sodos-site runs in one process (also its --roles '
    'option). The single-role daemons (sodos-knowmon, sodos-exec, '
    'sodos-analyseplan) ignore it.',
)

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'site_name',
        default=socket.gethostname(),
        sample_default='<hostname>',
        help="This site's unique name in the federation. Other sites and "
        'the operators know the site by this name; it must not change '
        'once the site has joined. See also [raft]address.',
    ),
    ROLES_OPT,
    cfg.StrOpt(
        'state_path',
        default='/var/lib/sodos',
        help='Where this site keeps local state. [raft]data_dir and the '
        'default SQLite history database live under it.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_opts(OPTS)


def list_opts() -> dict[str | None, list[cfg.Opt]]:
    return {None: OPTS}
