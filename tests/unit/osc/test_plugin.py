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

"""The plugin's contract with OpenStackClient: options, endpoint."""

import argparse
import json
import logging
import types

import pytest
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session
from osc_lib import exceptions

from sodos.osc import plugin


def _instance(config=None, catalog=None, version='1'):
    asked = []

    def get_endpoint_for_service_type(service_type, **kwargs):
        asked.append((service_type, kwargs))
        if catalog is None:
            raise ks_exc.EndpointNotFound()
        return catalog

    return types.SimpleNamespace(
        _cli_options=types.SimpleNamespace(config=config or {}),
        _api_version={'sodos': version},
        session=session.Session(),
        region_name='RegionOne',
        interface='internal',
        get_endpoint_for_service_type=get_endpoint_for_service_type,
        asked=asked,
    )


def test_endpoint_from_the_catalog():
    instance = _instance(catalog='http://api.example:8787/')
    client = plugin.make_client(instance)
    assert client.endpoint == 'http://api.example:8787/v1'
    assert instance.asked == [
        ('sodos', {'region_name': 'RegionOne', 'interface': 'internal'})
    ]


def test_sodos_url_wins_over_the_catalog():
    instance = _instance(
        config={'sodos_url': 'http://127.0.0.1:8787'},
        catalog='http://api.example:8787/',
    )
    assert plugin.make_client(instance).endpoint == 'http://127.0.0.1:8787/v1'
    assert instance.asked == []


def test_no_endpoint_anywhere():
    with pytest.raises(exceptions.CommandError) as caught:
        plugin.make_client(_instance())
    assert '--os-sodos-url' in str(caught.value)
    assert '--os-auth-type none' in str(caught.value)


def test_unsupported_version():
    with pytest.raises(exceptions.CommandError, match='version 2 is not'):
        plugin.make_client(_instance(catalog='http://h', version='2'))


def test_options(monkeypatch):
    monkeypatch.setenv('SODOS_URL', 'http://from-env:8787')
    parser = plugin.build_option_parser(argparse.ArgumentParser())
    assert parser.parse_args([]).os_sodos_url == 'http://from-env:8787'
    given = parser.parse_args(
        ['--os-sodos-url', 'http://h:1', '--os-sodos-api-version', '1']
    )
    assert given.os_sodos_url == 'http://h:1'
    assert given.os_sodos_api_version == '1'


def test_openstack_shell_with_no_auth(requests_mock, capsys):
    # The real OpenStackClient shell, as an operator runs it against an
    # API with [api]auth_strategy = noauth.
    shell = pytest.importorskip('openstackclient.shell')
    requests_mock.get(
        'http://sodos.test:8787/v1/federation',
        json={'federation': {'leader': 'paris', 'term': 2, 'sites': {}}},
    )
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        rc = shell.main(
            [
                '--os-auth-type',
                'none',
                '--os-endpoint',
                'http://sodos.test:8787',
                'sodos',
                'federation',
                'status',
                '-f',
                'json',
            ]  # fmt: skip
        )
    finally:
        # The shell sets up logging for a process of its own.
        root.handlers[:] = handlers
        root.setLevel(level)
    assert rc == 0
    assert json.loads(capsys.readouterr().out)['leader'] == 'paris'
