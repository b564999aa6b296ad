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

"""Whether this member's copy of the Knowledge Base can be trusted.

Three findings make it untrustworthy, each with its repair: its files
failed their check at start (sodos.kb.raft.journal), the leader finds its
digest diverged from its own history, or the leader finds it applying
nothing of the log while the leader commits (sodos.kb.raft.heartbeat).
A read-only member sets its files aside and replicates afresh; a voter is
fenced (Exec acts only in quorum) and, where its log cannot be trusted to
vote, stays read-only until the leader has replaced it as a voter.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from typing import TYPE_CHECKING

from sodos.kb.raft import journal

if TYPE_CHECKING:
    from sodos.kb.raft.backend import RaftBackend

LOG = logging.getLogger(__name__)

DIVERGED = "this member's Knowledge Base diverged from the leader's"
BEHIND = "this member applies nothing of the leader's log"
UNCHECKED = "this member's Raft files failed their check"
# A read-only member that hears no leader while its voters name one
# starts afresh at most this often, in seconds (see leaderless).
AFRESH_EVERY = 60.0


class Health:
    """The verdicts on one member and what it does about them."""

    def __init__(self, backend: RaftBackend) -> None:
        self.backend = backend
        # The applied count at which the leader found this member's KB
        # diverged from its own (None: it agrees, as far as it knows).
        self._diverged_at: int | None = None
        # The applied index at which the leader finds this member stuck
        # (heartbeat.STALLED_AFTER), or None.
        self._behind_at: int | None = None
        self._afresh_from: int | None = None
        # When this member last started afresh for hearing no leader.
        self._leaderless_afresh_at = float('-inf')
        # Set when this member's files failed their check at start: it
        # replicates afresh and must not vote on its empty log until the
        # leader has removed it from the voters (it may be promoted again
        # later, as any caught-up member).
        self.refuses_vote = False

    def check_files(self) -> None:
        """Set this member's Raft files aside if they fail their check."""
        problems = journal.check_files(
            self.backend.settings.journal, self.backend.settings.dump
        )
        if not problems:
            return
        self._set_aside('unchecked')
        self.refuses_vote = True
        self.backend.problem = (
            '%s (%s): they were set aside; this member replicates afresh '
            'and votes again only once the leader has replaced it as a '
            'voter' % (UNCHECKED, '; '.join(problems))
        )
        LOG.critical('raft: %s', self.backend.problem)

    def may_vote(self, voters: list[str]) -> bool:
        """Whether the voters the leader gave make this member a voter."""
        if self.backend.conf.raft.observer:
            return False
        if self.backend.address in voters:
            return not self.refuses_vote
        if self.refuses_vote:
            LOG.info(
                'raft: the leader no longer counts this member as a voter: '
                'it may be promoted again once caught up'
            )
            self.refuses_vote = False
        return False

    def diverged(self, count: int | None) -> None:
        """The leader's verdict on this member's Knowledge Base.

        A read-only member sets its journal and dump aside and replicates
        again from the leader's snapshot: it holds no vote, so nothing of
        the federation's depends on its log. A voter is fenced (Exec acts
        only in quorum, see in_quorum) and waits for its operator: its
        log counts towards commits, so replacing it is a membership
        decision.
        """
        if count == self._diverged_at:
            return
        self._diverged_at = count
        if count is None:
            LOG.info('raft: the leader finds this member agrees again')
            if self.backend.problem and self.backend.problem.startswith(
                DIVERGED
            ):
                self.backend.problem = None
            return
        if self.backend.runner.voter:
            self.backend.problem = (
                '%s after %d commands; Exec is fenced. Stop this site, move '
                '%s aside and start it again to replicate afresh'
                % (DIVERGED, count, self.backend.settings.data_dir)
            )
            LOG.critical('raft: %s', self.backend.problem)
            return
        self.replicate_afresh(
            '%s after %d commands; replicating afresh' % (DIVERGED, count),
            'diverged',
        )

    def behind(self, index: int | None) -> None:
        """The leader finds this member stuck at ``index`` (None: not).

        A stuck member must not serve its stale Knowledge Base as if it
        were current. A read-only member sets its files aside and
        replicates afresh from the leader's snapshot. A voter is fenced
        like a diverged one; the leader replaces it as a voter (see
        membership._replace_lost), after which it is read-only and
        replicates afresh in its turn.
        """
        if index is None:
            if self._behind_at is not None:
                LOG.info('raft: the leader finds this member applying again')
            self._behind_at = None
            # A member that set unchecked files aside is well again once
            # it applies the leader's log and no longer refuses to vote.
            settled = (BEHIND,) if self.refuses_vote else (BEHIND, UNCHECKED)
            if self.backend.problem and self.backend.problem.startswith(
                settled
            ):
                self.backend.problem = None
            return
        first = index != self._behind_at
        self._behind_at = index
        if self.backend.runner.voter:
            if first:
                self.backend.problem = (
                    '%s: stuck at index %d; Exec is fenced until the leader '
                    'replaces this voter and it replicates afresh'
                    % (BEHIND, index)
                )
                LOG.critical('raft: %s', self.backend.problem)
            return
        if self._afresh_from != index:
            # Once per stall: the fresh copy's index moves at once.
            self._afresh_from = index
            self.replicate_afresh(
                '%s: stuck at index %d; replicating afresh' % (BEHIND, index),
                'behind',
            )

    def leaderless(self, leader: str) -> None:
        """This read-only member hears no leader while its voters name
        ``leader``, and they are the voters it follows.

        Its own state keeps it from following: a voter cut off long
        enough to be replaced raised its term in vain elections; as a
        read-only member it never gives that term back, and refuses every
        append of the lower-term leader. It starts afresh, at most once
        every AFRESH_EVERY seconds: a member cut off from the leader (but
        not from the member it asks) would otherwise set its files aside
        every few seconds.
        """
        now = time.monotonic()
        if now - self._leaderless_afresh_at < AFRESH_EVERY:
            return
        self._leaderless_afresh_at = now
        self.replicate_afresh(
            '%s: no leader heard while %s leads; replicating afresh'
            % (BEHIND, leader),
            'leaderless',
        )

    def replicate_afresh(self, problem: str, why: str) -> None:
        """Set this read-only member's files aside and replicate again."""
        self.backend.problem = problem
        LOG.critical('raft: %s', self.backend.problem)
        self.backend.rebuild_read_only(functools.partial(self._set_aside, why))

    def _set_aside(self, why: str) -> None:
        suffix = '.%s-%d' % (why, int(time.time()))
        # The term and vote too: a member that starts afresh on a journal
        # whose side file failed its check could not open it.
        journal_path = self.backend.settings.journal
        for path in (
            journal_path,
            journal.meta_path(journal_path),
            self.backend.settings.dump,
        ):
            if os.path.exists(path):
                os.replace(path, path + suffix)
                LOG.warning('raft: kept %s as %s', path, path + suffix)

    def fenced(self) -> bool:
        """Whether a voter must keep its Exec from acting."""
        return self._diverged_at is not None or self._behind_at is not None
