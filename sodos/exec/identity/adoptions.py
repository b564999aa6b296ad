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

"""A site's answers to the federation's adoption requests.

The pure decision is :mod:`sodos.identity.adoption`; this carries it out
at the site: it reads the site's identity through the writer, proposes
the answer and, once committed, marks what was adopted.
"""

from __future__ import annotations

import logging
from typing import Any

from oslo_config import cfg

from sodos import exception
from sodos.identity import adoption
from sodos.identity import converge
from sodos.identity import model
from sodos.identity import writer as writer_mod
from sodos.knowmon import rpcapi

LOG = logging.getLogger(__name__)


class Adopter:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        writer: writer_mod.IdentityWriter,
        same_ids: bool,
    ) -> None:
        self.conf = conf
        self.writer = writer
        self.same_ids = same_ids

    def answer(
        self,
        api: rpcapi.KnowMonClient,
        desired: dict[str, Any],
        waiting: list[tuple[str, Any]],
        site: str,
    ) -> None:
        """Answer this site's pending adoption requests, oldest first
        (:mod:`sodos.identity.adoption`), and mark what was adopted."""
        try:
            observed = self.writer.snapshot()
        except (exception.TransientError, exception.PermanentError) as exc:
            LOG.warning('identity: %d adoption(s) wait: %s', len(waiting), exc)
            return
        for rid, request in waiting:
            try:
                args = adoption.decide(
                    rid,
                    request,
                    observed,
                    desired,
                    model.protected_sets(self.conf),
                    self.same_ids,
                    self._members(request, observed),
                )
                done = rpcapi.propose(
                    api, 'identity.adoption.finish', args, site
                )
            except (
                exception.TransientError,
                exception.PermanentError,
                exception.SodosError,
            ) as exc:
                # Still pending: decided again at the next look.
                LOG.warning('identity: adoption %s waits: %s', rid, exc)
                continue
            what = '%s %s' % (model.SINGULAR[request['kind']], request['name'])
            if done.get('state') != 'done':
                LOG.warning(
                    'identity: adoption of %s refused: %s',
                    what,
                    done.get('reason'),
                )
                continue
            self._mark(what, request['kind'], done)
            # A later request may link to what this one adopted (its ID
            # map entry is in the KB now).
            desired = model.section(api.read('identity') or {})

    def _mark(self, what: str, kind: str, done: dict[str, Any]) -> None:
        """Mark the adopted object, after the commit: one marked with a
        global id the KB lacked would be deleted by the next pass. A mark
        that fails is made by the next pass, which finds it by name."""
        try:
            self.writer.mark(kind, done['local_id'], done['id'])
        except (exception.TransientError, exception.PermanentError) as exc:
            LOG.warning(
                'identity: %s adopted, not marked yet (the next pass marks '
                'it): %s',
                what,
                exc,
            )
            return
        LOG.info(
            'identity: adopted %s (site id %s) as federation id %s',
            what,
            done['local_id'],
            done['id'],
        )

    def _members(
        self, request: dict[str, Any], observed: converge.Observed
    ) -> set[str] | None:
        """The members of the group a group request names."""
        lid = adoption.held(request, observed)
        if request['kind'] != 'groups' or lid is None:
            return None
        return self.writer.group_members(lid)
