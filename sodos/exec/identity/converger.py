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

"""One identity pass at a site: its identity brought in line with the KB's.

The pass of :mod:`sodos.exec.identity.sync`: objects, then memberships
and role assignments, then deletions, through the site's identity writer.
It remembers what the last pass left in line, so that a change needed
again on it is told apart as drift (a hand edit at the site).

Reading a site's whole identity costs several Keystone requests, most of
a pass's time on a busy machine, for what the last pass saw and did
itself: a pass may start from that view instead (``fresh=False``, for a
change of the KB), kept only after a pass with no failure. A hand edit
made since is then repaired by the next fresh pass (the audit, or the
one after a failure, which a change that the stale view hid causes).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from oslo_config import cfg
from oslo_log import log

from sodos import exception
from sodos.identity import converge
from sodos.identity import converge_links
from sodos.identity import crypto
from sodos.identity import model
from sodos.identity import writer as writer_mod

LOG = log.getLogger(__name__)


@dataclasses.dataclass
class PassResult:
    """What one pass did at the site."""

    done: list[str] = dataclasses.field(default_factory=list)
    failed: list[str] = dataclasses.field(default_factory=list)
    drift: list[str] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)
    ids: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    failed_keys: set[str] = dataclasses.field(default_factory=set)

    def describe(self) -> str:
        parts = ['%d change(s)' % len(self.done)]
        if self.drift:
            parts.append('%d drift repair(s)' % len(self.drift))
        if self.failed:
            parts.append('%d failed (%s)' % (len(self.failed), self.failed[0]))
        parts.extend(self.notes)
        return ', '.join(parts)


class Converger:
    def __init__(
        self,
        conf: cfg.ConfigOpts,
        writer: writer_mod.IdentityWriter,
        same_ids: bool,
    ) -> None:
        self.conf = conf
        self.writer = writer
        self.same_ids = same_ids
        # What the last pass left in line with the KB: object and link
        # keys with their fingerprints, and the site's links as tuples.
        self._converged: dict[str, Any] | None = None
        self._links: set[tuple[str, ...]] = set()
        self._box: crypto.PasswordBox | None = None
        self._box_secret: str | None = None
        # The site's identity as the last pass without a failure left
        # it, and the groups whose members it read.
        self._site: converge.Observed | None = None
        self._site_groups: set[str] = set()

    def forget(self) -> None:
        """The site was changed besides the passes: read it next time."""
        self._site = None

    def converge_once(
        self, desired: dict[str, Any], fresh: bool = True
    ) -> PassResult:
        """Bring the site's identity in line with ``desired`` once;
        unless ``fresh``, from the last pass's view of the site if it
        kept one."""
        result = PassResult()
        protected = model.protected_sets(self.conf)
        # Taken, not shared: a pass that ends early leaves no view.
        observed, self._site = self._site, None
        if fresh or observed is None:
            observed = self.writer.snapshot()
            read_groups: set[str] = set()
        else:
            read_groups = self._site_groups
        converged: dict[str, Any] = {}
        deletes: dict[str, list[converge.Op]] = {}
        for kind in model.KINDS:
            changes, deletes[kind], ids = converge.plan_objects(
                kind, desired[kind], getattr(observed, kind), protected
            )
            if self.same_ids:
                changes = _other_ids(kind, changes, ids, desired, result)
            result.ids[kind] = ids
            for op in changes:
                lid = self._run(op, desired, result, observed)
                if isinstance(lid, str):
                    ids[op.gid] = lid
            for gid in ids:
                converged['%s/%s' % (kind, gid)] = model.fingerprint(
                    kind, desired[kind][gid]
                )
        groups = set(result.ids['groups'].values())
        observed.memberships = {
            (group, user)
            for group, user in observed.memberships
            if group in groups and group in read_groups
        } | {
            (group, user)
            for group in sorted(groups - read_groups)
            for user in self.writer.group_members(group)
        }
        links = self._links_pass(desired, observed, result, protected)
        self._delete_pass(deletes, observed, result)
        for key in result.failed_keys:
            converged.pop(key, None)
        self._converged, self._links = converged, links
        if not result.failed:
            self._site, self._site_groups = observed, groups
        return result

    def _links_pass(
        self,
        desired: dict[str, Any],
        observed: converge.Observed,
        result: PassResult,
        protected: dict[str, set[str]],
    ) -> set[tuple[str, ...]]:
        """Memberships, then role assignments; returns the site's links
        as the KB wants them."""
        wanted: set[tuple[str, ...]] = set()
        for op in converge_links.plan_memberships(
            desired, observed, result.ids, protected
        ):
            self._run(op, desired, result, observed)
        for op in converge_links.plan_assignments(
            desired, observed, result.ids, protected
        ):
            self._run(op, desired, result, observed)
        for link in desired['memberships'].values():
            group = result.ids['groups'].get(link['group_id'])
            user = result.ids['users'].get(link['user_id'])
            if group and user:
                wanted.add((group, user))
        for link in desired['assignments'].values():
            grant = converge_links.local_grant(link, result.ids)
            if grant is not None:
                wanted.add(grant)
        return wanted

    def _delete_pass(
        self,
        deletes: dict[str, list[converge.Op]],
        observed: converge.Observed,
        result: PassResult,
    ) -> None:
        """What sodos made and the KB no longer holds, last made first."""
        gone: set[str] = set()
        for kind in reversed(model.KINDS):
            ops = deletes[kind]
            if kind == 'domains':
                ops, kept = converge.deletable_domains(ops, observed, gone)
                result.notes.extend(kept)
            for op in ops:
                if self._run(op, {}, result, observed) is not False:
                    gone.add(op.local_id)

    def _run(
        self,
        op: converge.Op,
        desired: dict[str, Any],
        result: PassResult,
        observed: converge.Observed,
    ) -> str | bool | None:
        """Apply ``op``; False if it failed (recorded in ``result``),
        else ``observed`` holds its effect."""
        drift = self._is_drift(op, desired)
        if op.password_version is not None and not self._decrypt(
            op, desired, result
        ):
            if op.action == 'update' and not op.attrs:
                return False
        try:
            lid = self.writer.apply(op)
        except (exception.TransientError, exception.PermanentError) as exc:
            result.failed.append('%s: %s' % (op.describe(), exc))
            result.failed_keys.add(op.key)
            LOG.warning('identity: %s failed: %s', op.describe(), exc)
            return False
        converge.record(observed, op, lid)
        result.done.append(op.describe())
        if drift:
            result.drift.append(op.describe())
            LOG.warning('identity: drift repaired: %s', op.describe())
        else:
            LOG.info('identity: %s', op.describe())
        return lid

    def _decrypt(
        self, op: converge.Op, desired: dict[str, Any], result: PassResult
    ) -> bool:
        stored = desired['users'][op.gid]['password']
        try:
            secret = self.conf.identity.secret
            if self._box is None or self._box_secret != secret:
                self._box = crypto.PasswordBox(secret)
                self._box_secret = secret
            op.password = self._box.decrypt(stored)
            op.password_set_at = stored.get('set_at')
        except crypto.SecretError as exc:
            op.password_version = None
            result.failed.append('password of user %s: %s' % (op.what, exc))
            result.failed_keys.add(op.key)
            LOG.error(
                'identity: password of user %s not set: %s', op.what, exc
            )
            return False
        return True

    def _is_drift(self, op: converge.Op, desired: dict[str, Any]) -> bool:
        """True if a hand edit at the site made ``op`` necessary."""
        if self._converged is None or op.action == 'delete':
            return False  # first pass since start, or a KB deletion
        if op.action in ('remove', 'revoke'):
            link = op.member if op.member is not None else op.grant
            return link not in self._links
        if op.kind in model.LINKS:
            link = op.member if op.member is not None else op.grant
            return link in self._links
        before = self._converged.get(op.key)
        return before is not None and before == model.fingerprint(
            op.kind, desired[op.kind][op.gid]
        )


def _other_ids(
    kind: str,
    changes: list[converge.Op],
    ids: dict[str, str],
    desired: dict[str, Any],
    result: PassResult,
) -> list[converge.Op]:
    """Shared identity: KB objects the site holds under another id.

    One made by hand (adopted by name) or by the api mode (marked, with
    the site's own id) cannot be given the global id without breaking
    what refers to it at the site (servers, images, credentials): it is
    reported, left alone and not linked, until the operator deletes or
    renames it and the next pass creates the federation's.
    """
    for gid, lid in sorted(ids.items()):
        if lid == gid:
            continue
        del ids[gid]
        text = (
            "%s %s has the id %s at this site, not the federation's %s: "
            'shared identity needs the same id at every site; remove the '
            "site's one (delete it, or rename it and take off its %s)"
            % (
                model.SINGULAR[kind],
                desired[kind][gid]['name'],
                lid,
                gid,
                model.MARKER,
            )
        )
        result.failed.append(text)
        result.failed_keys.add('%s/%s' % (kind, gid))
        LOG.warning('identity: %s', text)
    return [op for op in changes if op.action != 'update' or op.gid in ids]
