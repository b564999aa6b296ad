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

"""Telling systemd how the daemon is doing (``sd_notify``), stdlib only.

A unit with ``Type=notify`` passes the path of a datagram socket in
``$NOTIFY_SOCKET``; the daemon sends it newline-separated ``KEY=VALUE``
lines: ``READY=1`` once serving, ``RELOADING=1`` then ``READY=1`` around
a reload, ``STOPPING=1`` when shutting down, ``STATUS=...`` for
``systemctl status``. A path starting with ``@`` names a socket in the
abstract namespace. Without ``$NOTIFY_SOCKET`` (not run by systemd)
every call does nothing. See sd_notify(3).
"""

from __future__ import annotations

import os
import socket
import time

from oslo_log import log

LOG = log.getLogger(__name__)
ENV = 'NOTIFY_SOCKET'


def _address(value: str) -> str | None:
    if value.startswith('@'):
        return '\0' + value[1:]
    if value.startswith('/'):
        return value
    # vsock:CID:PORT (a VM's host) is not something sodos runs under.
    return None


class Notifier:
    """Sends state changes to the systemd socket named at creation.

    :param address: the socket's path; by default ``$NOTIFY_SOCKET``.
    :param unset_environment: remove ``$NOTIFY_SOCKET`` from the
        environment, so that no child process speaks for this one.
    """

    def __init__(
        self, address: str | None = None, unset_environment: bool = True
    ) -> None:
        if address is None:
            address = os.environ.get(ENV) or None
        if unset_environment:
            os.environ.pop(ENV, None)
        self.address = address
        self._target = _address(address) if address else None
        if address and self._target is None:
            LOG.warning(
                '%s=%s: unsupported socket, not notifying', ENV, address
            )

    @property
    def enabled(self) -> bool:
        return self._target is not None

    def notify(self, *fields: str) -> bool:
        """Send ``fields`` (``KEY=VALUE``) as one datagram.

        :returns: whether it was sent. A failure is logged, never raised:
            the daemon runs on whether or not systemd listens.
        """
        if self._target is None:
            return False
        message = '\n'.join(fields).encode('utf-8')
        error = None
        try:
            with socket.socket(
                socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
            ) as sock:
                sock.sendto(message, self._target)
        except OSError as exc:
            error = exc
        if error is not None:
            # Logged outside the except clause: oslo.log would repeat
            # the exception after the message.
            LOG.warning('cannot notify systemd at %s: %s', self.address, error)
            return False
        return True

    def ready(self) -> bool:
        return self.notify('READY=1')

    def reloading(self) -> bool:
        # systemd 253+ wants the time the reload began with it.
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        return self.notify('RELOADING=1', 'MONOTONIC_USEC=%d' % usec)

    def stopping(self) -> bool:
        return self.notify('STOPPING=1')

    def status(self, text: str) -> bool:
        """A one-line status for ``systemctl status``."""
        return self.notify('STATUS=' + ' '.join(text.split()))
