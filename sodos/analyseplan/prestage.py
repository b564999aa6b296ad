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

"""Pre-staging: copy an image where it would be needed after a failure.

An image whose target is ``needed`` is copied where a member using it is
placed. When that member's site fails, the member is re-placed, and its
server can be built only once the image has reached the new site: the
copy lengthens the outage. So the leader asks the planner the what-if
question "what if site S failed?" for every site S hosting members of
such images, and copies each image ahead of time to the sites its members
would move to, at most ``[analyseplan]image_prestage_sites`` of them per
image (those most members would move to, then by name).

One what-if is a whole plan: they are asked a few per cycle and their
answers kept until the placements, appliances, sites or the failures in
force change, so that a large federation spreads the work over cycles.
The answers are a cache a new leader rebuilds, not state.

Each what-if runs on the cycle's clock, as the cycle's own plan does: a
member kept off a site for a failure there may go back once
``[analyseplan]failed_site_retry_after`` has passed (:mod:`failures`),
so the site it would move to, and the copy it needs there, follow the
same rule. A what-if is a question: its reclaims neither tell nor stop a
guest.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from sodos.analyseplan import failures
from sodos.analyseplan import planner as planner_mod
from sodos.analyseplan.view import Events
from sodos.domain import imageview
from sodos.kb import shapes

# What-if plans asked per cycle, at most.
WHATIFS_PER_CYCLE = 4

Answer = dict[str, Counter[str]]


def fingerprint(kb: dict[str, Any], in_force: failures.Failed) -> str:
    """Changes when an answer may: placements, specs, sites, registry,
    and the failures that keep members off sites (``in_force``: those
    the clock has not lifted yet)."""
    digest = hashlib.sha256()
    for key, sites in sorted(in_force.items()):
        digest.update(('%s!%s;' % (key, ','.join(sorted(sites)))).encode())
    for key, placed in sorted((kb.get('placements') or {}).items()):
        digest.update(('%s=%s;' % (key, placed.get('site'))).encode())
    for key, record in sorted((kb.get('appliances') or {}).items()):
        digest.update(('%s@%s;' % (key, record.get('updated_at'))).encode())
    for name, site in sorted((kb.get('sites') or {}).items()):
        digest.update(
            (
                '%s:%s:%s;'
                % (name, site.get('status'), site.get('maintenance'))
            ).encode()
        )
    for image_id, entry in sorted((kb.get('images') or {}).items()):
        digest.update(
            (
                '%s:%s:%s;' % (image_id, entry['state'], entry.get('target'))
            ).encode()
        )
    return digest.hexdigest()


def needed_images(kb: dict[str, Any]) -> dict[str, str]:
    """Image reference -> id, for the active images of target 'needed'."""
    registry = kb.get('images') or {}
    return {
        ref: image_id
        for ref, image_id in imageview.resolver(kb).items()
        if (registry[image_id].get('target') or {}).get('kind') == 'needed'
    }


def ask(
    planner: planner_mod.Planner,
    kb: dict[str, Any],
    site: str,
    now: float | None = None,
) -> Answer:
    """Image id -> where the members of ``site`` using it would go, by a
    plan on the clock ``now`` (None: failures count for good)."""
    refs = needed_images(kb)
    out: Answer = {}
    plan = planner.plan(
        kb, Events(failed=frozenset({site})), now=now, notify=False
    )
    for move in plan.moves:
        image_id = refs.get(move.image)
        if move.from_site == site and image_id is not None:
            out.setdefault(image_id, Counter())[move.site] += 1
    return out


class Prestager:
    """The pre-staging sites of every 'needed' image, refreshed a few
    what-if questions per cycle."""

    def __init__(self, per_cycle: int = WHATIFS_PER_CYCLE) -> None:
        self.per_cycle = per_cycle
        # Failed site -> (fingerprint of the KB asked, cycle, answer).
        self._answers: dict[str, tuple[str, int, Answer]] = {}
        self._cycle = 0

    def sites(
        self,
        planner: planner_mod.Planner,
        kb: dict[str, Any],
        bound: int,
        now: float | None = None,
    ) -> dict[str, set[str]]:
        """Image id -> its pre-staging sites, the what-ifs asked on the
        clock ``now`` (the cycle's; None: failures count for good)."""
        if bound <= 0:
            self._answers.clear()
            return {}
        self._cycle += 1
        refs = needed_images(kb)
        if not refs:
            self._answers.clear()
            return {}
        hosting = {
            p['site']
            for p in (kb.get('placements') or {}).values()
            if shapes.placement_info(p).get('image') in refs
        }
        for gone in set(self._answers) - hosting:
            del self._answers[gone]
        # Counted again rather than taken from the cycle's plan: that one
        # counted the KB before its own orders (a removed member's
        # failures still in force), on an earlier clock; the what-ifs
        # ask about ``kb`` as given, at ``now``, and so must the key
        # their answers are kept under. One pass over actions and
        # placements, little beside a what-if.
        in_force, _ = failures.failed_sites(
            kb.get('actions') or {},
            kb.get('placements') or {},
            now,
            planner.failed_retry_after,
        )
        current = fingerprint(kb, in_force)
        # Never asked first, then the oldest answers, round robin.
        stale = sorted(
            (self._answers[s][1] if s in self._answers else -1, s)
            for s in hosting
            if s not in self._answers or self._answers[s][0] != current
        )
        for _, site in stale[: self.per_cycle]:
            answer = ask(planner, kb, site, now)
            self._answers[site] = (current, self._cycle, answer)
        return self.choose(kb, bound)

    def choose(self, kb: dict[str, Any], bound: int) -> dict[str, set[str]]:
        """At most ``bound`` sites per image, not those already using it."""
        total: dict[str, Counter[str]] = {}
        for _, _, answer in self._answers.values():
            for image_id, where in answer.items():
                total.setdefault(image_id, Counter()).update(where)
        used = imageview.uses(kb)
        out = {}
        for image_id, where in sorted(total.items()):
            ranked = sorted(
                (s for s in where if s not in used.get(image_id, ())),
                key=lambda s: (-where[s], s),
            )
            out[image_id] = set(ranked[:bound])
        return out
