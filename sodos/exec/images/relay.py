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

"""The image relay: this site's images, streamed to the other sites.

Sites need not share identity, so no site can read another's Glance. The
source site's Exec therefore serves its images itself, over HTTPS with
client certificates (mutual TLS with the federation CA, :mod:`sodos.tls`;
plain HTTP only with ``[raft]insecure_dev_mode``)::

    GET /images/{image_id}?target=SITE&expires=UNIX_TIME&sig=HEX

and the target site's Exec streams the answer into its own Glance
(sodos.exec.images.copy). The target signs the URL itself: the signature
is HMAC-SHA256 over ``image_id|target|expires`` with a key derived from
the federation password (``[raft]password``), which every site has, so
no token travels through the KB. The relay answers 403 to a bad or
expired signature, 404 to an image it does not have, 409 to one that is
not active, and 503 with Retry-After when it already sends
``[image_relay]max_uploads`` images.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import logging
import re
import socket
import threading
import time
import urllib.parse
from typing import TYPE_CHECKING
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos import tls as sodos_tls
from sodos.conf import image_relay as relay_conf
from sodos.exec.images import errors as image_errors

if TYPE_CHECKING:
    from sodos.exec.drivers import base as driver

LOG = logging.getLogger(__name__)
# The key used when [raft]insecure_dev_mode runs a federation with no
# password, on loopback only.
DEV_MODE_SECRET = 'sodos-insecure-dev-mode'
# A signed URL valid longer than this is refused, whatever url_ttl says.
MAX_TTL = 3600
RETRY_AFTER = 5
PATH_PREFIX = '/images/'
# Glance's image ids, as the KB keeps them (sodos.kb.schemas.IMAGE_ID).
# Matched whole (fullmatch): "$" would also match before a final newline.
_IMAGE_ID = re.compile(
    '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
)
_SITE = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}')
_CONTROL = re.compile(r'[\x00-\x1f\x7f-\x9f]')


def _key(conf: cfg.ConfigOpts) -> bytes:
    password = conf.raft.password
    if not password:
        if not conf.raft.insecure_dev_mode:
            raise exception.ConfigError(
                '[raft]password is not set: the image relay signs and '
                'checks its URLs with the federation password'
            )
        password = DEV_MODE_SECRET
    return hmac.new(
        b'sodos image relay', password.encode('utf-8'), hashlib.sha256
    ).digest()


def sign(
    conf: cfg.ConfigOpts, image_id: str, target: str, expires: int
) -> str:
    message = '%s|%s|%d' % (image_id, target, expires)
    return hmac.new(
        _key(conf), message.encode('utf-8'), hashlib.sha256
    ).hexdigest()


def signed_url(
    conf: cfg.ConfigOpts,
    base_url: str,
    image_id: str,
    target: str,
    now: float | None = None,
) -> str:
    """The URL at which site ``target`` may fetch the image, for a while."""
    expires = int(now if now is not None else time.time())
    expires += conf.image_relay.url_ttl
    query = urllib.parse.urlencode(
        {
            'target': target,
            'expires': expires,
            'sig': sign(conf, image_id, target, expires),
        }
    )
    return '%s%s%s?%s' % (
        base_url.rstrip('/'),
        PATH_PREFIX,
        urllib.parse.quote(image_id),
        query,
    )


def check(
    conf: cfg.ConfigOpts, image_id: str, query: dict[str, str], now: float
) -> str:
    """Why a request may not have the image ('' when it may)."""
    target = query.get('target', '')
    sig = query.get('sig', '')
    try:
        expires = int(query.get('expires', ''))
    except ValueError:
        return 'expires is not a UNIX time'
    if not target or not sig:
        return 'target and sig are required'
    good = sign(conf, image_id, target, expires)
    if not hmac.compare_digest(good, sig.lower()):
        return 'bad signature'
    if expires < now:
        return 'URL expired %d s ago' % (now - expires)
    if expires > now + MAX_TTL:
        return 'URL valid too long (more than %d s)' % MAX_TTL
    return ''


class Relay:
    """The HTTP server, run by the Exec role beside its driver."""

    def __init__(self, conf: cfg.ConfigOpts, drv: driver.Driver) -> None:
        self.conf = conf
        self.driver = drv
        _key(conf)  # no password: refuse to start, saying why
        # No TLS: refuse to start, unless in the development mode.
        self.tls = sodos_tls.from_conf(conf)
        self._lock = threading.Lock()
        self.sending = 0
        self.sent = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        url = relay_conf.public_url(self.conf)
        assert url is not None
        return url

    def start(self) -> None:
        opts = self.conf.image_relay
        handler = type(
            'Handler', (_Handler,), {'timeout': opts.timeout, 'relay': self}
        )
        server_class = _ServerV6 if ':' in opts.bind_host else _Server
        self._server = server_class(
            (opts.bind_host, relay_conf.port(self.conf)), handler
        )
        self._server.tls = self.tls.server if self.tls else None
        self._server.handshake_timeout = opts.timeout
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name='sodos-image-relay',
            daemon=True,
        )
        self._thread.start()
        LOG.info(
            'image relay: listening on %s:%d, published as %s',
            opts.bind_host,
            self._server.server_address[1],
            self.url,
        )

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve(self, request: _Handler) -> None:
        """Answer one GET: check, then stream the image."""
        parsed = urllib.parse.urlsplit(request.path)
        if not parsed.path.startswith(PATH_PREFIX):
            return _refuse(request, 404, 'no such resource')
        image_id = urllib.parse.unquote(parsed.path[len(PATH_PREFIX) :])
        query = dict(urllib.parse.parse_qsl(parsed.query))
        malformed = _malformed(image_id, query.get('target', ''))
        if malformed:
            # Nothing the client sent is logged as it is: a newline in an
            # id would start a forged log line.
            LOG.warning(
                'image relay: refused a request from %s: %s',
                request.client_address[0],
                malformed,
            )
            return _refuse(request, 400, malformed)
        why = check(self.conf, image_id, query, time.time())
        if why:
            LOG.warning(
                'image relay: refused image %s to %s: %s',
                image_id,
                request.client_address[0],
                why,
            )
            return _refuse(request, 403, why)
        if not self._admit():
            return _refuse(
                request,
                503,
                'already sending %d images ([image_relay]max_uploads)'
                % self.conf.image_relay.max_uploads,
                retry_after=RETRY_AFTER,
            )
        try:
            self._send(request, image_id, query['target'])
        finally:
            with self._lock:
                self.sending -= 1

    def _admit(self) -> bool:
        with self._lock:
            if self.sending >= self.conf.image_relay.max_uploads:
                return False
            self.sending += 1
            return True

    def _send(self, request: _Handler, image_id: str, target: str) -> None:
        try:
            meta, chunks = self.driver.open_image(image_id)
        except image_errors.ImageNotFound as exc:
            return _refuse(request, 404, str(exc))
        except image_errors.ImageNotActive as exc:
            return _refuse(request, 409, str(exc))
        except exception.SodosError as exc:
            return _refuse(request, 503, str(exc), retry_after=RETRY_AFTER)
        size = meta['size']
        request.send_response(200)
        request.send_header('Content-Type', 'application/octet-stream')
        request.send_header('Content-Length', str(size))
        for field in ('os_hash_algo', 'os_hash_value', 'checksum'):
            if meta.get(field):
                request.send_header('X-Image-' + field, str(meta[field]))
        request.end_headers()
        started = time.monotonic()
        LOG.info(
            'image relay: sending image %s (%d bytes) to site %s',
            image_id,
            size,
            target,
        )
        done = 0
        corrupt_at = self.conf.image_relay.test_corrupt_byte_at
        try:
            for chunk in chunks:
                if 0 <= corrupt_at - done < len(chunk):
                    chunk = _flip(chunk, corrupt_at - done)
                request.wfile.write(chunk)
                done += len(chunk)
        except (OSError, exception.SodosError) as exc:
            LOG.warning(
                'image relay: sending image %s to site %s stopped after '
                '%d of %d bytes: %s',
                image_id,
                target,
                done,
                size,
                exc,
            )
            request.close_connection = True
            return None
        finally:
            close = getattr(chunks, 'close', None)
            if close is not None:
                close()
        seconds = time.monotonic() - started
        with self._lock:
            self.sent += 1
        LOG.info(
            'image relay: sent image %s to site %s in %.1f s (%.1f MiB/s)',
            image_id,
            target,
            seconds,
            done / 1048576.0 / max(seconds, 1e-6),
        )
        return None


def _malformed(image_id: str, target: str) -> str:
    """Why the image id or the target site cannot be one ('' if they
    can); the values are quoted (repr), so safe to log."""
    if not _IMAGE_ID.fullmatch(image_id):
        return '%r is not an image id (a Glance image UUID)' % image_id[:64]
    if target and not _SITE.fullmatch(target):
        return '%r is not a site name' % target[:64]
    return ''


def _flip(chunk: bytes, offset: int) -> bytes:
    """The chunk with one byte changed ([image_relay]test_corrupt_byte_at)."""
    changed = bytearray(chunk)
    changed[offset] ^= 0xFF
    return bytes(changed)


def _refuse(
    request: _Handler, code: int, text: str, retry_after: int | None = None
) -> None:
    body = (text + '\n').encode('utf-8')
    request.send_response(code)
    request.send_header('Content-Type', 'text/plain; charset=utf-8')
    request.send_header('Content-Length', str(len(body)))
    if retry_after is not None:
        request.send_header('Retry-After', str(retry_after))
    request.end_headers()
    request.wfile.write(body)


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = 'sodos-image-relay'
    relay: Relay

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.relay.serve(self)

    def log_message(self, format: str, *args: Any) -> None:
        # http.server logs the request line as received: a carriage
        # return or an escape sequence in it must not reach the log.
        LOG.debug(
            'image relay: %s %s',
            self.address_string(),
            _CONTROL.sub(_escape, format % args),
        )


def _escape(found: re.Match[str]) -> str:
    return '\\x%02x' % ord(found.group())


class _Server(sodos_tls.HandshakeInThread, http.server.ThreadingHTTPServer):
    tls_label = 'image relay'


class _ServerV6(_Server):
    address_family = socket.AF_INET6
