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

from oslo_config import cfg

from sodos.conf import base
from sodos.conf import image_relay

GROUP = cfg.OptGroup(
    'site_profile',
    title='Site profile',
    help='What the planner knows of this site besides its capacity: '
    'where it is, what it may host, what it costs. Published in the KB '
    'when the site registers.',
)

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'region',
        help='Region name appliances may ask for, and the failure domain '
        'the leader spreads the voters over: sites that fail together '
        'should share it (default: the site name, a domain of its own).',
    ),
    cfg.StrOpt(
        'location',
        help='Where the site is, as LATITUDE,LONGITUDE in degrees; used '
        'for locality.',
    ),
    cfg.DictOpt(
        'labels',
        default={},
        help='Labels appliances may require, e.g. jurisdiction:eu,tier:gold.',
    ),
    cfg.StrOpt(
        'owner',
        regex=r'^[A-Za-z0-9_\-]{1,64}$',
        help='The organisation that owns this site, as the id of its '
        "Keystone domain (the domain's id in the KB's identity, the same "
        'at every site). Its projects are served first here under the '
        'sharing policy its admins set (openstack sodos owner set); '
        'unset: the site has no owner and lends to every project.',
    ),
    cfg.FloatOpt(
        'cost_per_vcpu_hour',
        default=0.0,
        min=0.0,
        help='Price of one vCPU for one hour, in any currency the '
        'federation agrees on.',
    ),
    cfg.FloatOpt(
        'carbon_intensity',
        default=300.0,
        min=0.0,
        help="gCO2 per kWh of the site's electricity.",
    ),
    cfg.FloatOpt(
        'idle_power_kw',
        default=5.0,
        min=0.0,
        help='Power the site draws to stay on for sodos even when idle; '
        'what a consolidation saves by emptying it.',
    ),
    cfg.FloatOpt(
        'pue',
        default=1.5,
        min=1.0,
        help='Power usage effectiveness of the data centre (1.0 = ideal).',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}


def profile(conf: cfg.ConfigOpts) -> dict[str, Any]:
    """The profile a site publishes in its ``site.register`` info."""
    opts = conf.site_profile
    data: dict[str, Any] = {
        'region': opts.region or conf.site_name,
        'labels': dict(sorted(opts.labels.items())),
        'cost_per_vcpu_hour': opts.cost_per_vcpu_hour,
        'carbon_intensity': opts.carbon_intensity,
        'pue': opts.pue,
        'idle_power_kw': opts.idle_power_kw,
    }
    if opts.location:
        data['location'] = opts.location
    if opts.owner:
        data['owner'] = opts.owner
    # Where the other sites' Exec fetch this site's images.
    relay = image_relay.public_url(conf) if 'exec' in conf.roles else None
    if relay:
        data['image_relay'] = relay
    return data
