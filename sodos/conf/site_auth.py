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

"""How the openstack Exec driver reaches its site's cloud.

The usual keystoneauth options (as Nova's ``[placement]`` or
``[glance]`` groups have them): an auth plugin and its credentials, TLS
and timeouts, plus the region and interface of the endpoints to use.
One identity reaches Keystone, Glance, Nova and Placement of the site.
"""

from oslo_config import cfg

from sodos.conf import keystoneauth

GROUP = cfg.OptGroup(
    'site_auth',
    title="The site's OpenStack",
    help="Credentials and endpoints of this site's OpenStack, for the "
    'openstack Exec driver. The user needs the admin role (placement '
    'usages) in the project where sodos builds its servers.',
)

OPTS: list[cfg.Opt] = [
    cfg.StrOpt(
        'region_name',
        help="The site's region in the Keystone catalog (default: the "
        "catalog's only or first region).",
    ),
    cfg.ListOpt(
        'valid_interfaces',
        default=['internal', 'public'],
        help='Catalog interfaces to use, in order of preference.',
    ),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    keystoneauth.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: keystoneauth.listed(OPTS)}
