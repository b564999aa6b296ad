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

"""The ``raft`` state backend: this site's member of the replicated KB.

Start-up, in order of precedence:

* a data directory with a membership record: restart as the voter or
  read-only member it was, from its journal and dump;
* ``[raft]join`` names members: ask one of them (control channel) for the
  voters, then replicate as a read-only member;
* neither: bootstrap a new federation with this site as its only voter.

Then the site registers itself in the KB; the leader's controller promotes
read-only members until the federation has its ``voter_count`` voters.
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import threading
import uuid
from collections.abc import Callable
from typing import Any

from oslo_config import cfg
from pysyncobj.monotonic import monotonic

from sodos import exception
from sodos.conf import site_profile
from sodos.kb import backend
from sodos.kb import commands
from sodos.kb import query as kbquery
from sodos.kb.raft import control
from sodos.kb.raft import controller
from sodos.kb.raft import discovery
from sodos.kb.raft import election
from sodos.kb.raft import endpoints
from sodos.kb.raft import frames
from sodos.kb.raft import health
from sodos.kb.raft import heartbeat
from sodos.kb.raft import journal
from sodos.kb.raft import membership
from sodos.kb.raft import runner
from sodos.kb.raft import settings
from sodos.kb.raft import store

LOG = logging.getLogger(__name__)

# How long a new site keeps asking the members in [raft]join before it
# gives up (and exits, for its service manager to restart it).
JOIN_PATIENCE = 60.0


class RaftBackend(backend.StateBackend):
    def __init__(self, conf: cfg.ConfigOpts) -> None:
        super().__init__(conf)
        self.settings = settings.load(conf)
        self.address = self.settings.address
        self.credentials = control.credentials(
            self.settings.password, self.settings.tls
        )
        self.membership = store.MembershipFile(self.settings.data_dir)
        journal.configure(self.settings.journal, conf.raft.fsync)
        frames.install(conf.raft.max_frame_bytes)
        self.heartbeats = heartbeat.Table()
        self.runner = runner.RaftRunner(
            self.address,
            lambda voter: settings.syncobj_conf(conf, self.settings, voter),
            self._notify,
            self._voters_changed,
        )
        self._server: control.ControlServer | None = None
        self._sender = heartbeat.Sender(self)
        self._controller = controller.Controller(self)
        self._led_since: float | None = None
        self._registered = threading.Event()
        self._stopping = threading.Event()
        self._role_lock = threading.Lock()
        self.problem: str | None = None
        self._left = False
        self.health = health.Health(self)

    # -- start and stop --------------------------------------------------

    def start(self) -> None:
        settings.warn_if_insecure(self.settings)
        os.makedirs(self.settings.data_dir, mode=0o700, exist_ok=True)
        record = self.membership.load()
        bootstrap = False
        if record is not None and record.get('left'):
            raise exception.ConfigError(
                'site %s left the federation; move %s aside to join again'
                % (self.site, self.settings.data_dir)
            )
        if record is not None:
            voters = list(record['voters'])
            # Bootstrapped by sodos-manage, or stopped before the
            # federation was named: name it once registered.
            bootstrap = bool(record.get('founding'))
            LOG.info('raft: restarting from %s', self.settings.data_dir)
        elif self.settings.join:
            voters, _ = self.discover(self.settings.join, JOIN_PATIENCE)
        else:
            voters, bootstrap = [self.address], True
            LOG.info('raft: no state and no [raft]join: new federation')
        self.membership.save(voters=voters, founding=bootstrap)
        self.health.check_files()
        voter = self.health.may_vote(voters)
        host, port = self.settings.bind_host, self.settings.port
        if voter:
            settings.check_port_free(host, port, 'Raft port')
        settings.check_port_free(host, port + 1, 'control channel')
        self._server = control.ControlServer(
            (host, port + 1), self.credentials, endpoints.handlers(self)
        )
        self._server.start()
        self.runner.start(voter, voters)
        self._sender.start()
        self._controller.start()
        threading.Thread(
            target=self._register,
            args=(bootstrap,),
            name='sodos-register',
            daemon=True,
        ).start()

    def abandon_writes(self) -> None:
        self.runner.abandon_writes()

    def stop(self) -> None:
        self._stopping.set()
        self._controller.stop()
        self._sender.stop()
        if self._server is not None:
            self._server.stop()
        self.runner.stop()

    def wait_ready(self, timeout: float) -> bool:
        return self._registered.wait(timeout)

    def discover(
        self, peers: tuple[str, ...] | list[str], patience: float = 0.0
    ) -> tuple[list[str], str | None]:
        """The current voters and leader, asked of the members named in
        [raft]join (:func:`discovery.ask`)."""
        return discovery.ask(
            peers,
            self.credentials,
            self.site,
            self.address,
            self._stopping,
            patience,
        )

    def _register(self, bootstrap: bool) -> None:
        """Record this site in the KB once the member has caught up."""
        if self.conf.raft.observer:
            self._follow_as_observer()
            return
        args = {
            'site': self.site,
            'address': self.address,
            'roles': list(self.conf.roles),
            'info': {
                'profile': site_profile.profile(self.conf),
                # What this code's KB knows (sodos.kb.versions).
                'kb_schema': commands.SCHEMA_VERSION,
                'incarnation': self.incarnation,
            },
        }
        while not self._stopping.is_set():
            status = self.runner.status()
            if not (status.get('ready') and status.get('leader')):
                self._stopping.wait(0.1)
                continue
            try:
                if bootstrap:
                    self._name_federation()
                self.propose('site.register', args)
            except exception.CommandRejected as exc:
                self.problem = str(exc)
                LOG.error('raft: this site cannot register: %s', exc)
                return
            except exception.SodosError as exc:
                LOG.warning('raft: registration waits: %s', exc)
                self._stopping.wait(1.0)
                continue
            self.problem = None
            self._registered.set()
            LOG.info('raft: site %s registered at %s', self.site, self.address)
            return

    def _follow_as_observer(self) -> None:
        """Ready once caught up with a leader; no site record, ever."""
        while not self._stopping.is_set():
            status = self.runner.status()
            if status.get('ready') and status.get('leader'):
                self._registered.set()
                LOG.info(
                    'raft: following the federation as an observer (no '
                    'site record, never a voter)'
                )
                return
            self._stopping.wait(0.1)

    def _name_federation(self) -> None:
        """Propose ``federation.init`` unless the KB has a name already.

        The federation section is not empty before that: the first
        leader may have claimed its term (``leader.claim``) already, so
        only the id tells whether the federation was named.
        """
        if not self.read('federation').get('id'):
            self.propose(
                'federation.init',
                {
                    'federation_id': uuid.uuid4().hex,
                    'voter_count': self.conf.raft.voter_count,
                },
            )
        self.membership.save(founding=False)

    # -- writes and reads ------------------------------------------------

    def submit_async(
        self, command: commands.Command, timeout: float | None = None
    ) -> concurrent.futures.Future[backend.Result]:
        if timeout is None:
            timeout = self.conf.raft.commit_timeout
        return self.runner.submit(command.to_wire(), timeout)

    def read_query(self, query: kbquery.Query) -> Any:
        return self.runner.read(query)

    @property
    def term(self) -> int:
        term: int = self.runner.status().get('term', 0)
        return term

    def status(self) -> backend.MemberStatus:
        raw = self.runner.status()
        sites = self._sites_by_address()
        leader = raw.get('leader')
        connected = set(raw.get('connected', ()))
        if raw.get('voter'):
            connected.add(self.address)
        role = 'starting'
        if self._left:
            role = 'left'
        elif self._stopping.is_set():
            role = 'stopped'
        elif raw:
            role = 'voter' if raw['voter'] else 'readonly'
        return backend.MemberStatus(
            site=self.site,
            address=self.address,
            role=role,
            ready=bool(raw.get('ready')) and self._registered.is_set(),
            leader=leader,
            leader_site=sites.get(leader) if leader else None,
            is_leader=bool(raw.get('is_leader')),
            term=raw.get('term', 0),
            has_quorum=self.in_quorum(),
            commit_index=raw.get('commit_index', 0),
            last_applied=raw.get('last_applied', 0),
            leader_commit_index=raw.get('leader_commit_index'),
            voters=[
                {
                    'address': a,
                    'site': sites.get(a),
                    'connected': a in connected,
                }
                for a in raw.get('voters', [])
            ],
        )

    # Asked every cycle by Exec (fencing) and by leader-only proposals:
    # answered from the runner's status, without mapping sites.
    def is_leader(self) -> bool:
        return bool(self.runner.status().get('is_leader'))

    def in_quorum(self) -> bool:
        if self.health.fenced() and self.runner.voter:
            return False
        return _in_quorum(self.runner.status())

    def _sites_by_address(self) -> dict[str, str]:
        try:
            return membership.sites_by_address(self.read('sites'))
        except exception.NotReady:
            return {}

    def track_leadership(self, status: dict[str, Any]) -> None:
        if status.get('is_leader'):
            if self._led_since is None:
                self._led_since = monotonic()
                self.heartbeats.clear()
        else:
            self._led_since = None

    def liveness(self) -> dict[str, float]:
        status = self.runner.status()
        since = self._led_since
        if not status.get('is_leader') or since is None:
            return {}
        linked = set(status['connected']) & set(status['voters'])
        return self.heartbeats.ages(
            self.read('sites'), linked, self.site, since
        )

    def leader_confirmed_dead(self, site: str) -> bool:
        status = self.status()
        if status.role != 'voter' or status.is_leader:
            return False
        if status.leader is None or status.leader_site != site:
            return False
        return election.told(self.runner, status.leader, self.conf.raft)

    # -- membership ------------------------------------------------------

    def _voters_changed(self, voters: list[str]) -> None:
        self.membership.save(voters=voters)

    def follow_leader(self, voters: list[str]) -> None:
        """Become what the leader's configuration says this member is."""
        status = self.runner.status()
        should_vote = self.health.may_vote(voters)
        if should_vote == bool(status.get('voter')):
            return
        with self._role_lock:
            if should_vote == self.runner.voter:
                return
            LOG.info(
                'raft: the leader counts this site as %s: %s',
                'a voter' if should_vote else 'read-only',
                'promoting' if should_vote else 'demoting',
            )
            self.membership.save(voters=voters)
            self.runner.rebuild(should_vote, voters)

    def adopt_voters(self, voters: list[str]) -> None:
        """Record ``voters`` and rebuild as what they make this member
        (:func:`discovery.rediscover`)."""
        with self._role_lock:
            self.membership.save(voters=voters)
            self.runner.rebuild(self.health.may_vote(voters), voters)

    def rebuild_read_only(self, between: Callable[[], None]) -> None:
        """Rebuild as a read-only member of the same voters, running
        ``between`` once the old member is gone (sodos.kb.raft.health)."""
        with self._role_lock:
            voters = list(self.runner.status().get('voters', []))
            self.runner.rebuild(False, voters, between)

    # The leader's verdicts, from its heartbeat replies (sodos.kb.raft.health).
    def diverged(self, count: int | None) -> None:
        self.health.diverged(count)

    def behind(self, index: int | None) -> None:
        self.health.behind(index)

    def finish_leave(self) -> bool:
        """Stop replicating once this site's leave is complete."""
        if not self._registered.is_set():
            # A site joining again under the name of one that left reads
            # the old 'left' record until its own registration commits.
            return False
        site = self.read('sites').get(self.site)
        if not site or site['status'] != 'left' or self.runner.voter:
            return False
        if self.address in self.runner.status().get('voters', []):
            return False
        LOG.info('raft: site %s has left the federation', self.site)
        self.membership.save(left=True)
        self._left = True
        self._stopping.set()
        self.runner.stop()
        return True

    def rediscover(self) -> None:
        """Ask the members this one knows for the voters, and follow
        (:func:`discovery.rediscover`)."""
        discovery.rediscover(self)


def _in_quorum(raw: dict[str, Any]) -> bool:
    """In contact with a quorum, and knowing its leader."""
    return bool(raw.get('has_quorum')) and raw.get('leader') is not None
