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

"""Settings of this member, checked before anything starts.

pysyncobj asserts its own constraints with bare ``assert``s; checking them
here turns a bad config file into an error that names the option.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import os
import socket
import sys

from oslo_config import cfg
from pysyncobj import SyncObjConf

from sodos import exception
from sodos import tls as sodos_tls
from sodos.kb.raft import window

LOG = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Settings:
    address: str
    host: str
    port: int
    bind_host: str
    data_dir: str
    password: str | None
    join: tuple[str, ...]
    # None: plaintext between sites ([raft]insecure_dev_mode only).
    tls: sodos_tls.Contexts | None = None
    insecure_dev_mode: bool = False

    @property
    def journal(self) -> str:
        return journal_path(self.data_dir)

    @property
    def dump(self) -> str:
        return dump_path(self.data_dir)


def journal_path(data_dir: str) -> str:
    return os.path.join(data_dir, 'journal')


def dump_path(data_dir: str) -> str:
    return os.path.join(data_dir, 'dump')


def split_address(value: str, option: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(':')
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65535:
        raise exception.ConfigError(
            '%s: %r is not HOST:PORT (a port below 65535, as the control '
            'channel uses PORT+1)' % (option, value)
        )
    return host.strip('[]'), int(port)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == 'localhost'


def load(conf: cfg.ConfigOpts) -> Settings:
    raft = conf.raft
    if not raft.address:
        raise exception.ConfigError(
            '[raft]address is not set: give the HOST:PORT other members '
            'reach this one at'
        )
    host, port = split_address(raft.address, '[raft]address')
    join = tuple(raft.join or ())
    for peer in join:
        split_address(peer, '[raft]join')
    bind_host = raft.bind_host or host
    if raft.observer and not join:
        raise exception.ConfigError(
            '[raft]observer is set but [raft]join is empty: an observer '
            'follows a federation and cannot found one; name a member in '
            '[raft]join'
        )
    if not raft.password and not raft.insecure_dev_mode:
        raise exception.ConfigError(
            '[raft]password is not set: every member needs the '
            'federation password (without it the Raft port runs any '
            'code sent to it)'
        )
    contexts = sodos_tls.from_conf(conf)
    if raft.insecure_dev_mode and not (
        _is_loopback(host) and _is_loopback(bind_host)
    ):
        raise exception.ConfigError(
            '[raft]insecure_dev_mode is accepted only on a loopback '
            '[raft]address and [raft]bind_host; unset it'
        )
    _check_timeouts(raft)
    return Settings(
        address=raft.address,
        host=host,
        port=port,
        bind_host=bind_host,
        data_dir=raft.data_dir,
        password=raft.password or None,
        join=join,
        tls=contexts,
        insecure_dev_mode=raft.insecure_dev_mode,
    )


def insecurities(settings: Settings) -> list[str]:
    """What [raft]insecure_dev_mode lets this member do, for the warning
    at start and for sodos-status."""
    found = []
    if not settings.password:
        found.append(
            'no [raft]password: the Raft port accepts unauthenticated '
            'pickles, i.e. runs any code sent to it'
        )
    if settings.tls is None:
        found.append(
            'no TLS ([raft]ssl_*): the control channel and the image relay '
            'talk plaintext'
        )
    return found


def warn_if_insecure(settings: Settings) -> None:
    """Say it loudly, in the log and on stderr (which a service manager
    keeps even when the log goes to a file): this member runs in the
    development mode."""
    if not settings.insecure_dev_mode:
        return
    text = (
        'INSECURE: [raft]insecure_dev_mode is on, for development on '
        'loopback only: %s'
        % '; '.join(insecurities(settings) or ['nothing insecure in use'])
    )
    LOG.warning('%s', text)
    print('sodos: WARNING: %s' % text, file=sys.stderr, flush=True)


def _check_timeouts(raft: cfg.ConfigOpts.GroupAttr) -> None:
    rules = [
        (
            raft.election_timeout_min > 3 * raft.heartbeat_period,
            '[raft]election_timeout_min must exceed 3 x '
            '[raft]heartbeat_period',
        ),
        (
            raft.election_timeout_max > raft.election_timeout_min,
            '[raft]election_timeout_max must exceed '
            '[raft]election_timeout_min',
        ),
        (
            raft.connection_timeout >= raft.election_timeout_max,
            '[raft]connection_timeout must be at least '
            '[raft]election_timeout_max',
        ),
        (
            raft.leader_fallback_timeout > raft.heartbeat_period,
            '[raft]leader_fallback_timeout must exceed [raft]heartbeat_period',
        ),
    ]
    for ok, message in rules:
        if not ok:
            raise exception.ConfigError(message)


def syncobj_conf(
    conf: cfg.ConfigOpts, settings: Settings, voter: bool = True
) -> SyncObjConf:
    """pysyncobj's configuration for this member as a voter or not."""
    raft = conf.raft
    made = SyncObjConf(
        password=settings.password,
        autoTick=False,
        raftMinTimeout=raft.election_timeout_min,
        raftMaxTimeout=raft.election_timeout_max,
        appendEntriesPeriod=raft.heartbeat_period,
        connectionTimeout=raft.connection_timeout,
        connectionRetryTime=raft.connection_retry_time,
        leaderFallbackTimeout=raft.leader_fallback_timeout,
        appendEntriesUseBatch=raft.batch_append_entries,
        bindAddress='%s:%d' % (settings.bind_host, settings.port),
        # Both, always: a journal without a dump silently loses the whole
        # state after a compaction and a restart ("Journal and dump" in
        # doc/source/contributor/design-notes.rst).
        journalFile=settings.journal,
        fullDumpFile=settings.dump,
        # A snapshot stalls the tick thread while it is written (no fork,
        # below): take one every 50k entries rather than 5k by default.
        logCompactionMinEntries=raft.compaction_min_entries,
        logCompactionMinTime=raft.compaction_min_time,
        # Voters take turns (each its own slice of the compaction period)
        # so that they do not all pause at once. A read-only member is in
        # no quorum, and pysyncobj 0.3.17 cannot split for it: it looks
        # itself up among the voters by its own node, which it has not,
        # and every tick fails from then on, before reading the network.
        logCompactionSplit=voter,
        dynamicMembershipChange=True,
        # Forking a threaded daemon to write the dump risks a child stuck
        # on a lock another thread held; the state is small.
        useFork=False,
        maxBindRetries=3,
        commandsWaitLeader=True,
    )
    # Not one of pysyncobj's options: read by sodos.kb.raft.window.
    setattr(made, window.CONF_KEY, raft.max_inflight_bytes)
    return made


def check_port_free(host: str, port: int, what: str) -> None:
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise exception.ConfigError(
                'cannot listen on %s:%d for the %s (%s): is another member '
                'running with the same [raft]address?'
                % (host, port, what, exc)
            ) from exc
