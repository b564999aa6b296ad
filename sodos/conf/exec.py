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
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
