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

"""Clients of a local federation held in the caller's process: a KB
member of its own (an observer), a KnowMon RPC client."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from typing import Any

from sodos import exception
from sodos.sim.siteconf import LAN_SETTINGS

if TYPE_CHECKING:
    from sodos.sim.federation import LocalFederation
    from sodos.sim.federation import LocalSite


# Seconds a client member waits to join, at least.
JOIN_WAIT = 30.0


def client_member(
    fed: LocalFederation, name: str = 'client', patience: float = 0.0
) -> Any:
    """An observer KB member in this process, joined to the sites:
    reads and writes the KB with no message bus, is listed as no site
    and never votes (stop() it after). It waits ``patience`` seconds to
    join, at least JOIN_WAIT and four connection timeouts."""
    from oslo_config import cfg

    from sodos import conf as sodos_conf
    from sodos.kb import backend as kb_backend

    conf = cfg.ConfigOpts()
    sodos_conf.register_opts(conf)
    conf([], project='sodos', default_config_files=[])
    address = fed.new_address(name)
    overrides: dict[str, Any] = {
        'address': address,
        'data_dir': os.path.join(fed.root, name),
        'password': fed.password,
        'join': [s.address for s in fed.sites.values()],
        'commit_timeout': 30.0,
        'observer': True,
        **fed.tls_options(name, address),
    }
    # The federation's own timeouts (a WAN profile's at a hundred sites):
    # with a LAN's, a loaded machine keeps the member from joining.
    settings = fed.settings
    overrides.update(settings.get('raft') or LAN_SETTINGS['raft'])
    conf.set_override('site_name', name)
    conf.set_override('roles', [])
    for option, value in overrides.items():
        conf.set_override(option, value, 'raft')
    for option, value in (settings.get('knowmon') or {}).items():
        conf.set_override(option, value, 'knowmon')
    member = kb_backend.load(conf, 'raft')
    member.start()
    patience = max(patience, JOIN_WAIT, 4 * conf.raft.connection_timeout)
    if not member.wait_ready(patience):
        member.stop()
        raise exception.NotReady(
            'the client member did not join in %.0f s' % patience
        )
    return member


def knowmon(fed: LocalFederation, site: LocalSite) -> Any:
    """A KnowMon RPC client for ``site``, over the message bus."""
    from oslo_config import cfg

    from sodos import conf as sodos_conf
    from sodos import rpc
    from sodos.knowmon import rpcapi

    if fed.transport_url is None:
        raise ValueError('this federation has no transport_url')
    if fed._rpc_conf is None:
        conf = cfg.ConfigOpts()
        sodos_conf.register_opts(conf)
        rpc.register_opts(conf)
        conf([], project='sodos', default_config_files=[])
        conf.set_override('transport_url', fed.transport_url)
        conf.set_override('control_exchange', fed.control_exchange)
        fed._rpc_conf = (conf, rpc.transport(conf))
    conf, transport = fed._rpc_conf
    return rpcapi.KnowMonAPI(conf, site=site.name, transport=transport)
