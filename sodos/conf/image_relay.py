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

"""Options of the image relay, and the URL this site publishes for it.

Each site's Exec talks only to its own cloud, so an image goes from one
site to another through the source's relay: a small HTTP server in the
Exec role that streams an image out of the local Glance to a peer Exec
holding a signed URL.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from oslo_config import cfg

from sodos.conf import base

GROUP = cfg.OptGroup(
    'image_relay',
    title='Image relay',
    help="Serves this site's images to the other sites' Exec, which "
    'copy them into their own Glance, over HTTPS with client '
    'certificates: the TLS files of [raft]ssl_ca_file, '
    '[raft]ssl_cert_file and [raft]ssl_key_file (plain HTTP only with '
    '[raft]insecure_dev_mode). Requests carry a URL signed with the '
    'federation password ([raft]password).',
)

OPTS: list[cfg.Opt] = [
    cfg.BoolOpt(
        'enabled',
        default=True,
        help='Run the relay in the Exec role. Without it this site '
        'cannot be the source of an image copy.',
    ),
    cfg.HostAddressOpt(
        'bind_host',
        default='127.0.0.1',
        help='Address the relay listens on. Set an address the other '
        'sites reach (and [image_relay]public_url if they reach it '
        'through another name).',
    ),
    cfg.PortOpt(
        'bind_port',
        default=0,
        help='Port the relay listens on. 0 picks a free port when the '
        'site starts; that works only when Exec and KnowMon run in one '
        'process (sodos-site), since KnowMon publishes the URL: with '
        'sodos-exec and sodos-knowmon apart, set a port.',
    ),
    cfg.URIOpt(
        'public_url',
        schemes=['http', 'https'],
        help='URL at which the other sites reach the relay. Its host must '
        'be named in the certificate of [raft]ssl_cert_file. Default: '
        'https://[image_relay]bind_host:[image_relay]bind_port (http:// '
        'when TLS is not configured, in [raft]insecure_dev_mode).',
    ),
    cfg.IntOpt(
        'max_uploads',
        default=2,
        min=1,
        mutable=True,
        help='Images the relay sends at the same time; beyond that it '
        'answers 503 with Retry-After and the requesting site tries '
        'again later. The planner limits copies per source too; this is '
        "the safety net for the site's uplink.",
    ),
    cfg.IntOpt(
        'url_ttl',
        default=300,
        min=10,
        help='Seconds a signed relay URL stays valid. A copy needs the '
        'URL only to start; the clocks of the sites must agree within '
        'this.',
    ),
    cfg.FloatOpt(
        'timeout',
        default=60.0,
        min=1.0,
        help='Seconds without data, either side of a copy, before the '
        'transfer counts as broken (a transient error, retried).',
    ),
    cfg.IntOpt(
        'test_corrupt_byte_at',
        default=-1,
        min=-1,
        mutable=True,
        help='TEST HOOK, never set it in production: when 0 or more, the '
        'relay flips the byte at this offset of every image it serves, '
        'so that tests can check that a corrupted transfer is refused by '
        "the receiving site's hash check. -1 (default) disables it.",
    ),
]

# The port picked for bind_port = 0, kept on the option itself (an
# override), so the published URL and the server agree in one process.
_pick_lock = threading.Lock()


def register_opts(conf: cfg.ConfigOpts) -> None:
    base.register(conf, GROUP, OPTS)


def list_opts() -> dict[cfg.OptGroup, list[cfg.Opt]]:
    return {GROUP: OPTS}


def port(conf: cfg.ConfigOpts) -> int:
    """The relay's port; a free one is picked once if the option is 0."""
    with _pick_lock:
        chosen: int = conf.image_relay.bind_port
        if chosen:
            return chosen
        host = conf.image_relay.bind_host
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            chosen = sock.getsockname()[1]
        conf.set_override('bind_port', chosen, group='image_relay')
        return chosen


def usable(conf: cfg.ConfigOpts) -> bool:
    """Enabled, with a federation password to sign its URLs with."""
    return bool(
        conf.image_relay.enabled
        and (conf.raft.password or conf.raft.insecure_dev_mode)
    )


def public_url(conf: cfg.ConfigOpts) -> str | None:
    """The URL the site publishes for its relay; None without a relay."""
    opts: Any = conf.image_relay
    if not usable(conf):
        return None
    if opts.public_url:
        return str(opts.public_url).rstrip('/')
    host = opts.bind_host
    if ':' in host:
        host = '[%s]' % host
    scheme = 'https' if conf.raft.ssl_cert_file else 'http'
    return '%s://%s:%d' % (scheme, host, port(conf))
