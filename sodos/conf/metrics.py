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

"""The observation listener of a site process: Prometheus and health."""

from oslo_config import cfg

from sodos.conf import base

GROUP = cfg.OptGroup(
    'metrics',
    title='Metrics and health listener',
    help='A small HTTP listener in every sodos site process (sodos-site, '
    'sodos-knowmon, sodos-exec, sodos-analyseplan, sodos-api) that '
    'serves Prometheus metrics at /metrics and the health check of '
    '[healthcheck] at /healthcheck, for Prometheus, systemd and load '
    'balancers. The REST API serves its own /healthcheck besides.',
)

OPTS: list[cfg.Opt] = [
    cfg.BoolOpt(
        'enabled',
        default=False,
        help='Serve /metrics and /healthcheck on [metrics]bind_host and '
        '[metrics]bind_port. Security note: the listener takes no '
        'credentials. What it shows (site names, the Raft term and '
        'leader, counts of alerts and actions) is read by anyone who '
        'can reach it: keep it on a management network or loopback.',
    ),
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help='Address the listener of [metrics]enabled listens on.',
    ),
    cfg.PortOpt(
        'bind_port',
        default=9787,
        help='Port the listener of [metrics]enabled listens on. Every '
        'process of a site needs a port of its own: 0 picks a free one '
        '(written in the log), for tests.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}
