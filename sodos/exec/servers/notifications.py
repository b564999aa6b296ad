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

"""Nova's versioned notifications, heard on the site's message bus.

Polling every ``[exec]monitor_interval`` would see a server deleted by
hand, or gone to ERROR, only at the next poll. Nova says so at once on
its notification topic: Exec listens (in its own listener pool, so it
takes no message from other consumers) and, for an instance event about
a sodos-managed server, runs the monitoring collection now. The
collection, not the message, says what the server's state is, so a lost
or duplicated notification costs nothing but a delay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import rpc
from sodos.exec.drivers import base as driver
from sodos.rpc import oslo_messaging

LOG = log.getLogger(__name__)

# The instance events after which the server's state differs.
EVENTS = (
    'instance.create.end',
    'instance.create.error',
    'instance.delete.end',
    'instance.update',
    'instance.power_off.end',
    'instance.shutdown.end',
    'instance.soft_delete.end',
    'instance.exists',
)


class Endpoint:
    """Wakes the collection on events about sodos servers."""

    filter_rule = oslo_messaging.NotificationFilter(event_type=r'^instance\.')

    def __init__(self, wake: Callable[[str], None]) -> None:
        self._wake = wake
        self.seen = 0

    def _handle(self, event_type: str, payload: Any) -> None:
        if event_type not in EVENTS:
            return
        data = payload.get('nova_object.data', {}) if payload else {}
        metadata = data.get('metadata') or {}
        # Older payloads carry no metadata: wake anyway, the collection
        # is cheap and decides.
        if metadata and driver.TAG_APPLIANCE not in metadata:
            return
        self.seen += 1
        self._wake('%s %s' % (event_type, data.get('uuid', '?')))

    def info(
        self,
        ctxt: Any,
        publisher_id: str,
        event_type: str,
        payload: Any,
        metadata: Any,
    ) -> None:
        self._handle(event_type, payload)

    # instance.create.error and the like come at priority error.
    error = info


def listener(
    conf: cfg.ConfigOpts, wake: Callable[[str], None]
) -> rpc.BackgroundServer | None:
    """A started-in-background listener, or None when not configured."""
    url = conf.exec.notifications_url
    if not url:
        return None
    rpc.register_opts(conf)
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    targets = [
        oslo_messaging.Target(
            topic=conf.exec.notifications_topic,
            exchange=conf.exec.notifications_exchange,
        )
    ]
    server = oslo_messaging.get_notification_listener(
        transport,
        targets,
        [Endpoint(wake)],
        pool=conf.exec.notifications_pool,
    )
    return rpc.BackgroundServer(server)
