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


"""The gossip endpoint of this site, made from its configuration and KB.

The members are the KB's sites (all but those that left); a site's gossip
port is its Raft port plus ``[knowmon]gossip_port_offset``, the same at
every site, so the Raft address in its record is all the others need.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.kb import backend as kb_backend
from sodos.kb.raft import admin
from sodos.knowmon.gossip import params as gossip_params
from sodos.knowmon.gossip import transport


def params_from(conf: cfg.ConfigOpts) -> gossip_params.Params:
    knowmon = conf.knowmon
    try:
        return gossip_params.Params(
            probe_interval=knowmon.gossip_probe_interval,
            probe_timeout=knowmon.gossip_probe_timeout,
            indirect_checks=knowmon.gossip_indirect_checks,
            suspicion_mult=knowmon.gossip_suspicion_mult,
        )
    except ValueError:
        raise exception.ConfigError(
            '[knowmon]gossip_probe_timeout (%s) must be under '
            '[knowmon]gossip_probe_interval (%s)'
            % (knowmon.gossip_probe_timeout, knowmon.gossip_probe_interval)
        ) from None


def addresses(
    sites: dict[str, dict[str, Any]], offset: int
) -> dict[str, tuple[str, int]]:
    """Each member site's gossip address, from its Raft address."""
    found = {}
    for name, site in sites.items():
        if site.get('status') == 'left':
            continue
        host, sep, port = str(site.get('address', '')).rpartition(':')
        if not sep or not port.isdigit():
            continue
        gossip_port = int(port) + offset
        if gossip_port < 65536:
            found[name] = (host.strip('[]'), gossip_port)
    return found


def endpoint(
    conf: cfg.ConfigOpts,
    backend: kb_backend.StateBackend,
    on_dead: Callable[[set[str]], None] | None = None,
) -> transport.Endpoint:
    """This site's endpoint, not started; ``on_dead`` is told, from the
    gossip's thread, of the members newly confirmed dead.

    :raises ConfigError: the options cannot work together.
    """
    if conf.knowmon.state_backend != 'raft':
        raise exception.ConfigError(
            '[knowmon]failure_detector = gossip needs the raft state '
            'backend ([knowmon]state_backend = raft): other backends have '
            'no other members to gossip with'
        )
    params = params_from(conf)
    member = admin.member(conf)
    offset = conf.knowmon.gossip_port_offset
    port = member.settings.port + offset
    if port > 65535:
        raise exception.ConfigError(
            '[knowmon]gossip_port_offset: the Raft port %d plus %d is not '
            'a port' % (member.settings.port, offset)
        )

    def membership() -> transport.Membership | None:
        if not backend.status().ready:
            return None
        federation = backend.read('federation').get('id')
        if not federation:
            return None
        return transport.Membership(
            str(federation), addresses(backend.read('sites'), offset)
        )

    return transport.Endpoint(
        backend.site,
        (member.settings.bind_host, port),
        transport.derive_key(member.key.key),
        params,
        membership,
        on_dead,
        incarnation=backend.incarnation,
    )
