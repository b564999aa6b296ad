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

"""The OpenStackClient plugin of sodos: ``openstack sodos ...``.

OpenStackClient finds this module through the ``openstack.cli.extension``
entry point and the commands through ``openstack.sodos.v1``. The API's
endpoint is, in this order: ``--os-sodos-url`` (``SODOS_URL``), the
``sodos_endpoint_override`` of a clouds.yaml cloud, the endpoint of the
auth plugin (``--os-auth-type none --os-endpoint URL`` for an API run
with ``[api]auth_strategy = noauth``), the ``sodos`` service of the
Keystone catalog.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from keystoneauth1 import exceptions as ks_exc
from osc_lib import exceptions
from osc_lib import utils

from sodos.osc import client
from sodos.osc import lazy_commands

LOG = logging.getLogger(__name__)

# OpenStackClient imports this module before it registers its commands.
lazy_commands.install()

DEFAULT_API_VERSION = '1'
API_NAME = 'sodos'
API_VERSION_OPTION = 'os_sodos_api_version'
API_VERSIONS = {'1': 'sodos.osc.client.Client'}


def _endpoint(instance: Any) -> str:
    url = instance._cli_options.config.get('sodos_url')
    if url:
        return str(url)
    try:
        url = instance.get_endpoint_for_service_type(
            client.SERVICE_TYPE,
            region_name=instance.region_name,
            interface=instance.interface,
        )
    except ks_exc.EndpointNotFound:
        url = None
    if not url:
        raise exceptions.CommandError(
            'no endpoint for the sodos API: give its URL with '
            '--os-sodos-url (or SODOS_URL), or --os-endpoint with '
            '--os-auth-type none, or register the %r service in the '
            'Keystone catalog' % client.SERVICE_TYPE
        )
    return str(url)


def make_client(instance: Any) -> client.Client:
    """The sodos client for OpenStackClient's client manager."""
    version = instance._api_version[API_NAME]
    if version not in API_VERSIONS:
        raise exceptions.CommandError(
            'sodos API version %s is not supported (supported: %s)'
            % (version, ', '.join(sorted(API_VERSIONS)))
        )
    endpoint = _endpoint(instance)
    LOG.debug('sodos API endpoint: %s', endpoint)
    return client.Client(
        instance.session,
        endpoint,
        region_name=instance.region_name,
        interface=instance.interface,
    )


def build_option_parser(
    parser: argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """Add the global options of the plugin."""
    parser.add_argument(
        '--os-sodos-api-version',
        metavar='<sodos-api-version>',
        default=utils.env('OS_SODOS_API_VERSION'),
        help='sodos API version, default=%s (Env: OS_SODOS_API_VERSION)'
        % DEFAULT_API_VERSION,
    )
    parser.add_argument(
        '--os-sodos-url',
        metavar='<url>',
        default=utils.env('SODOS_URL'),
        help='URL of the sodos API, instead of the one in the service '
        'catalog (Env: SODOS_URL)',
    )
    return parser
