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

"""The client side of the image relay: the bytes of a signed URL.

Over HTTPS with this site's certificate, checking the source's against
the federation CA (:mod:`sodos.tls`); a plain http:// source only in
``[raft]insecure_dev_mode``.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.error
import urllib.request

from oslo_config import cfg

from sodos import exception
from sodos import tls as sodos_tls


def source(conf: cfg.ConfigOpts, url: str, what: str) -> RelaySource:
    """A RelaySource for ``url`` with this site's TLS.

    :raises ConfigError: no TLS for an https URL, or a plain http one
        outside the development mode.
    """
    return RelaySource(url, conf.image_relay.timeout, what, tls(conf, url))


def tls(conf: cfg.ConfigOpts, url: str) -> ssl.SSLContext | None:
    """The TLS to fetch ``url`` with; a plain http:// source only in
    [raft]insecure_dev_mode."""
    contexts = sodos_tls.from_conf(conf)
    if url.startswith('https://'):
        if contexts is None:
            raise exception.ConfigError(
                'the source relay is https, and [raft]ssl_* is not set'
            )
        return contexts.client
    if not conf.raft.insecure_dev_mode:
        raise exception.ConfigError(
            'the source relay %s is plain http: refused, sites exchange '
            'images over mutual TLS only (plaintext only with '
            '[raft]insecure_dev_mode)' % url.split('?', 1)[0]
        )
    return None


class RelaySource:
    """The bytes of a signed relay URL, fetched at the first read.

    Nothing is fetched when the image turns out to be here already.
    Errors are sodos errors: 403/404/409 permanent (the URL's signature,
    the image missing or not active at the source), the rest transient.
    """

    def __init__(
        self,
        url: str,
        timeout: float,
        what: str,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.what = what
        self.tls = tls
        self._response: http.client.HTTPResponse | None = None

    def read(self, size: int = -1) -> bytes:
        if self._response is None:
            self._response = self._open()
        try:
            return self._response.read(size if size >= 0 else None)
        except (OSError, http.client.HTTPException) as exc:
            raise exception.TransientError(
                '%s: the stream from the source broke: %s' % (self.what, exc)
            ) from exc

    def close(self) -> None:
        if self._response is not None:
            self._response.close()

    def _open(self) -> http.client.HTTPResponse:
        shown = self.url.split('?', 1)[0]
        try:
            response: http.client.HTTPResponse = urllib.request.urlopen(
                self.url, timeout=self.timeout, context=self.tls
            )
            return response
        except urllib.error.HTTPError as exc:
            reason = exc.read(500).decode('utf-8', 'replace').strip()
            message = '%s: the source relay %s answered %d: %s' % (
                self.what,
                shown,
                exc.code,
                reason or exc.reason,
            )
            if exc.code == 403:
                raise exception.PermanentError(
                    message + ' (do both sites have the same [raft]password '
                    'and a clock within [image_relay]url_ttl?)'
                ) from None
            if exc.code in (404, 409):
                raise exception.PermanentError(message) from None
            raise exception.TransientError(message) from None
        except (OSError, http.client.HTTPException) as exc:
            # Under TLS 1.3 a relay refusing our certificate says so
            # after the handshake: a bare SSLError, not a URLError.
            cause: object = exc
            if isinstance(exc, urllib.error.URLError):
                cause = exc.reason
            if isinstance(cause, ssl.SSLError):
                raise exception.PermanentError(
                    '%s: TLS with the source relay %s failed: %s (are both '
                    'sites on the federation CA, [raft]ssl_ca_file, with '
                    'certificates naming their relay host?)'
                    % (self.what, shown, cause)
                ) from exc
            raise exception.TransientError(
                '%s: the source relay %s is unreachable: %s'
                % (self.what, shown, exc)
            ) from exc
