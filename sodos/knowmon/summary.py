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

"""When a new site summary is worth committing to the Knowledge Base.

Every committed summary is a Raft entry replayed by every member, so a
site reports only what changed in a way the planners care about: the API
going up or down, a sodos server appearing, changing state or going away,
the image or flavor list, a capacity total, or usage moving by more than
``[knowmon]summary_change_threshold`` percent of the total. A summary
older than ``[knowmon]summary_max_age`` is refreshed anyway, so that the
KB shows how recent the site's data are.
"""

from __future__ import annotations

from typing import Any


def change(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    threshold_pct: float,
    max_age: float,
) -> str | None:
    """Why ``new`` should be committed, or None if it should not."""
    if old is None:
        return 'first report'
    old_api, new_api = old.get('api', {}), new.get('api', {})
    if old_api.get('ok') != new_api.get('ok'):
        return 'API %s' % ('up' if new_api.get('ok') else 'down')
    if not new_api.get('ok'):
        return _refresh(old, new, max_age)
    if _states(old) != _states(new):
        return 'servers changed'
    if old.get('images') != new.get('images'):
        return 'images changed'
    # A copy arriving under a name already here changes only the details.
    if old.get('image_details') != new.get('image_details'):
        return 'image details changed'
    if old.get('flavors') != new.get('flavors'):
        return 'flavors changed'
    moved = _capacity_change(
        old.get('capacity', {}), new.get('capacity', {}), threshold_pct
    )
    return moved or _refresh(old, new, max_age)


def _states(summary: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (
            entry.get('id'),
            entry.get('status'),
            len(entry.get('others', [])),
        )
        for key, entry in summary.get('servers', {}).items()
    }


def _capacity_change(
    old: dict[str, Any], new: dict[str, Any], threshold_pct: float
) -> str | None:
    if sorted(old) != sorted(new):
        return 'capacity kinds changed'
    for kind in sorted(new):
        before, after = old[kind], new[kind]
        if before.get('total') != after.get('total'):
            return '%s total changed' % kind
        total = after.get('total') or 0
        delta = abs((after.get('used') or 0) - (before.get('used') or 0))
        if total and delta * 100.0 / total > threshold_pct:
            return '%s usage moved %.1f%%' % (kind, delta * 100.0 / total)
        if not total and delta:
            return '%s usage changed' % kind
    return None


def _refresh(
    old: dict[str, Any], new: dict[str, Any], max_age: float
) -> str | None:
    age = (new.get('collected_at') or 0) - (old.get('collected_at') or 0)
    if age >= max_age:
        return 'refresh after %.0f s' % age
    return None
