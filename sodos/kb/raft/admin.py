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

"""What the operators' tools do with a site's Raft member from outside.

The one door into the Raft backend for ``sodos-manage federation``,
``sodos-status`` and the local federation of ``sodos-sim`` and the tests:
the member's checked settings, the federation's status asked of a member
over the control channel, and joining, bootstrapping and leaving. The
rest of :mod:`sodos.kb.raft` is the backend's own (an import contract in
``pyproject.toml`` keeps it so).
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos import tls as sodos_tls
from sodos.kb.raft import control
from sodos.kb.raft import report
from sodos.kb.raft import settings as raft_settings
from sodos.kb.raft import store


@dataclasses.dataclass(frozen=True)
class Member:
    """This site's member as its configuration describes it."""

    settings: raft_settings.Settings
    # What a control-channel client needs: password key and TLS.
    key: control.Credentials

    @property
    def address(self) -> str:
        return self.settings.address


def member(conf: cfg.ConfigOpts) -> Member:
    """The member's settings, checked (ConfigError naming the option)."""
    settings = raft_settings.load(conf)
    return Member(
        settings, control.credentials(settings.password, settings.tls)
    )


def check_settings(conf: cfg.ConfigOpts) -> list[str]:
    """Raise ConfigError naming the option if the [raft] ones are wrong;
    what [raft]insecure_dev_mode lets through if they are not."""
    settings = raft_settings.load(conf)
    if not settings.insecure_dev_mode:
        return []
    return raft_settings.insecurities(settings) or [
        '[raft]insecure_dev_mode is on (nothing insecure in use yet)'
    ]


Credentials = control.Credentials


def key_for(
    password: str | None, tls_files: dict[str, str] | None = None
) -> control.Credentials:
    """A control-channel client's credentials: the key of a federation
    password and, with the ``ssl_ca_file``, ``ssl_cert_file`` and
    ``ssl_key_file`` of ``tls_files``, mutual TLS."""
    tls = None
    if tls_files is not None:
        tls = sodos_tls.contexts(
            sodos_tls.Files(
                ca=tls_files['ssl_ca_file'],
                cert=tls_files['ssl_cert_file'],
                key=tls_files['ssl_key_file'],
            )
        )
    return control.credentials(password, tls)


def federation_status(
    address: str, key: control.Credentials
) -> dict[str, Any]:
    """The federation as the member at ``address`` (or its leader) sees it."""
    return report.gather(address, key)


def status_text(data: dict[str, Any]) -> str:
    return report.as_text(data)


def files_on_disk(conf: cfg.ConfigOpts) -> dict[str, int]:
    """Bytes of the member's journal and full dump in [raft]data_dir (0
    for a file not written yet), read from any process of the site."""
    data_dir = conf.raft.data_dir
    sizes = {}
    for name, path in (
        ('journal', raft_settings.journal_path(data_dir)),
        ('dump', raft_settings.dump_path(data_dir)),
    ):
        try:
            sizes[name] = os.path.getsize(path)
        except OSError:
            sizes[name] = 0
    return sizes


def _no_state_yet(me: Member) -> store.MembershipFile:
    record = store.MembershipFile(me.settings.data_dir)
    if record.load() is not None:
        raise exception.SodosError(
            "%s already holds this member's state: it is (or was) in a "
            'federation. Move it aside first to start anew.'
            % me.settings.data_dir
        )
    os.makedirs(me.settings.data_dir, mode=0o700, exist_ok=True)
    return record


def join(me: Member, peer: str, site: str) -> dict[str, Any]:
    """Ask ``peer`` for the voters and record them: the site joins as a
    read-only member when its services start. The peer's answer."""
    raft_settings.split_address(peer, '--peer')
    record = _no_state_yet(me)
    reply: dict[str, Any] = control.call(
        peer, me.key, 'hello', site=site, address=me.address
    )
    record.save(voters=reply['voters'])
    return reply


def bootstrap(me: Member) -> None:
    """Record this site as the first voter of a new federation.

    ``founding`` tells the site, when it starts, that the federation is
    still to be named (``federation.init``): the record exists, so the
    start cannot tell a founder from a restart by its absence.
    """
    _no_state_yet(me).save(voters=[me.address], founding=True)


def ask_to_leave(me: Member, site: str) -> None:
    control.call(me.address, me.key, 'leave', site=site)


def has_left(me: Member) -> bool:
    record = store.MembershipFile(me.settings.data_dir).load() or {}
    return bool(record.get('left'))
