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

"""oslo.messaging plumbing for a private ConfigOpts (no global CONF)."""

from __future__ import annotations

import importlib
from typing import Any

import oslo_messaging
from oslo_config import cfg
from oslo_messaging import opts as messaging_opts

# oslo.messaging registers these two groups on the global CONF only, but
# reads them from the ConfigOpts it is given at the first call.
_GLOBAL_ONLY = (
    ('oslo_messaging._metrics.client', 'oslo_messaging_metrics'),
    ('oslo_messaging._tracing.client', 'oslo_messaging_tracing'),
)


def register_opts(conf: cfg.ConfigOpts) -> None:
    oslo_messaging.set_transport_defaults('sodos')
    for group, opts in messaging_opts.list_opts():
        conf.register_opts(opts, group=group)
    for module_name, name in _GLOBAL_ONLY:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        conf.register_opts(getattr(module, name), group=name)


def transport(conf: cfg.ConfigOpts) -> Any:
    return oslo_messaging.get_rpc_transport(conf)


def server(
    conf: cfg.ConfigOpts, topic: str, endpoints: list[Any]
) -> oslo_messaging.MessageHandlingServer:
    """An RPC server for this site on ``topic``, one thread per call."""
    target = oslo_messaging.Target(topic=topic, server=conf.site_name)
    return oslo_messaging.get_rpc_server(
        transport(conf),
        target,
        endpoints,
        executor='threading',
        access_policy=oslo_messaging.DefaultRPCAccessPolicy,
    )
