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

"""How an appliance changes while it runs.

A change is a JSON merge patch (RFC 7396) of the spec: a mapping merges
into the spec's (``constraints``, ``metadata``), ``null`` removes a key,
anything else (``members`` among them, a list) replaces the value. The
result is checked by :func:`sodos.domain.appliance.validate`, as a new
spec is, then by :func:`refusals` against the spec it replaces.

What changes live, and how:

* ``members`` and their ``count``: a new member, or a higher count, is
  placed by the planner; a member removed, or a lower count, has its
  placements removed and its servers deleted (the highest indexes go);
* ``priority``, ``constraints.headroom_pct``: the planner's next plan
  weighs them;
* ``constraints.sites``, ``regions`` and ``labels``: a member on a site
  they no longer allow is moved to one they do;
* lowering ``constraints.spread`` or turning ``affinity`` off: no
  member moves, the planner is freer from then on;
* ``public_key``, ``user_data``, ``metadata``, ``name``, ``project``:
  servers built from then on (new, re-placed or rebuilt members) boot
  with them; running servers keep what they booted with.

What cannot change live is refused (:func:`refusals`): the owner's
project (its servers are that project's at every site); the networks
(running members' ports would stay on the old ones, and Exec removes a
network it made only when no appliance uses it); a member's image,
flavor or networks (its servers run with them: replace the member by
one with another name); raising ``spread`` or turning ``affinity`` on
(the members already placed would not move to meet them).
"""

from __future__ import annotations

import copy
from typing import Any

# Keys of a spec no update may change.
FIXED = ('project_id', 'networks')
# A member's keys its servers are built with.
MEMBER_FIXED = ('image', 'flavor', 'networks')


def merged(spec: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """``spec`` with ``patch`` applied as a JSON merge patch; neither
    is changed."""
    out = copy.deepcopy(spec)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def refusals(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Why ``new`` cannot replace ``old`` on a running appliance, each
    naming its field as ``data.<path>``; both specs validated."""
    problems = []
    for key in FIXED:
        if old.get(key) != new.get(key):
            problems.append('data.%s: %s' % (key, _FIXED_WHY[key]))
    before = {m['name']: m for m in old.get('members') or []}
    for index, member in enumerate(new.get('members') or []):
        was = before.get(member['name'])
        if was is None:
            continue
        for key in MEMBER_FIXED:
            if was.get(key) != member.get(key):
                problems.append(
                    'data.members[%d].%s: member %s runs with %s %s; its '
                    'servers cannot change it live: add a member under '
                    'another name and remove this one'
                    % (index, key, member['name'], key, _shown(was.get(key)))
                )
    problems.extend(_tightened(old['constraints'], new['constraints']))
    return problems


_FIXED_WHY = {
    'project_id': "an appliance's project cannot change: its servers are "
    "that project's at every site (create the appliance in the other "
    'project and delete this one)',
    'networks': 'the networks cannot change live: running members keep '
    'their ports (create another appliance with the new networks)',
}


def _tightened(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    problems = []
    if new['spread'] > old['spread']:
        problems.append(
            'data.constraints.spread: raising it from %d to %d would not '
            'move the members already placed (lower it, or create the '
            'appliance again)' % (old['spread'], new['spread'])
        )
    if new['affinity'] and not old['affinity']:
        problems.append(
            'data.constraints.affinity: turning it on would not gather '
            'the members already placed on one site (create the '
            'appliance again)'
        )
    return problems


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return repr(value) if value is not None else '(none)'
