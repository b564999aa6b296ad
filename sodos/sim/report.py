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

"""What a sodos-sim run showed, computed from its samples.

Per disruption (crash, freeze, drain, load): the members it hit, the
time until the KB marked the site down (``detect_s``, crash and freeze)
and until every hit member ran again (``recovery_s``: ACTIVE at its
placed site, a site that runs; for a drain, away from the drained site).
Per appliance: availability, the fraction of samples after the start in
which all its members ran. Members the planner could not place, with its
reason. Cost, power and CO2 per hour of the running placement before the
first disruption and at the end (``sodos.analyseplan.objective``). And
the end state: members placed on a site that does not run, members
running twice.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterable
from typing import Any

from sodos.analyseplan import objective
from sodos.sim import fairness
from sodos.sim import sample as sample_mod

DISRUPTIONS = ('crash', 'freeze', 'drain', 'load')


def _before(samples: list[dict[str, Any]], t: float) -> dict[str, Any]:
    """The last sample taken before ``t`` (the first one if none)."""
    found = samples[0]
    for sample in samples:
        if sample['t'] > t:
            break
        found = sample
    return found


def _detect(
    samples: list[dict[str, Any]], site: str, t: float
) -> float | None:
    """Seconds from ``t`` until the KB said ``site`` is down."""
    for sample in samples:
        if sample['t'] < t:
            continue
        state = sample['sites'].get(site) or {}
        if state.get('kb') == 'down':
            since = state.get('since')
            # The KB's own stamp is sharper than the sampling period.
            if since is not None and t <= since <= sample['t']:
                return round(since - t, 3)
            return round(sample['t'] - t, 3)
    return None


def failure(
    samples: list[dict[str, Any]], event: dict[str, Any]
) -> dict[str, Any]:
    """How the federation coped with one disruptive event."""
    t = event['t']
    sites = set(event['sites'])
    before = _before(samples, t)
    affected = sorted(
        key for key, m in before['members'].items() if m['site'] in sites
    )
    out: dict[str, Any] = {
        'event': event['index'],
        'action': event['action'],
        'sites': sorted(sites),
        't': t,
        'affected_members': affected,
        'detect_s': None,
        'detect_s_per_site': {},
        'recovery_s': None,
        'moved_to': {},
        'not_recovered': {},
    }
    if event['action'] in ('crash', 'freeze'):
        per_site = {s: _detect(samples, s, t) for s in sorted(sites)}
        out['detect_s_per_site'] = per_site
        found = [v for v in per_site.values() if v is not None]
        if found and len(found) == len(per_site):
            out['detect_s'] = max(found)
    must_move = event['action'] == 'drain'
    last = samples[-1]
    for sample in samples:
        if sample['t'] < t or not affected:
            continue
        members = sample['members']
        if all(
            members.get(k, {}).get('running')
            and not (must_move and members[k]['site'] in sites)
            for k in affected
        ):
            out['recovery_s'] = round(sample['t'] - t, 3)
            out['moved_to'] = {k: members[k]['site'] for k in affected}
            break
    else:
        for key in affected:
            member = last['members'].get(key) or {}
            if not member.get('running'):
                out['not_recovered'][key] = last['unplaced'].get(
                    key, 'state %s' % member.get('status', '?')
                )
    return out


def back_up(
    samples: list[dict[str, Any]], event: dict[str, Any]
) -> dict[str, Any]:
    """For a recover event: seconds until the KB had each site up."""
    per_site: dict[str, float | None] = {}
    for site in event['sites']:
        per_site[site] = None
        for sample in samples:
            state = sample['sites'].get(site) or {}
            if sample['t'] >= event['t'] and state.get('kb') == 'up':
                since = state.get('since')
                if since is not None and event['t'] <= since <= sample['t']:
                    per_site[site] = round(since - event['t'], 3)
                else:
                    per_site[site] = round(sample['t'] - event['t'], 3)
                break
    return {
        'event': event['index'],
        'sites': sorted(event['sites']),
        't': event['t'],
        'up_s_per_site': per_site,
    }


def availability(
    samples: list[dict[str, Any]],
    appliances: dict[str, list[str]],
    since: float,
    needs: Callable[[Iterable[bool]], bool] = all,
) -> dict[str, float]:
    """Appliance name -> fraction of samples in which its members (keys)
    ran: every one of them (``needs=all``) or at least one (``any``).

    Counted from ``since`` (events count from there), or from the first
    sample in which the appliance was complete, every member running, if
    that came later: before that it was being built, not unavailable.
    An appliance never complete gets 0.
    """
    out = {}
    for name, keys in appliances.items():
        complete = next((s['t'] for s in samples if _ran(s, keys, all)), None)
        if complete is None:
            out[name] = 0.0
            continue
        start = max(since, complete)
        window = [s for s in samples if s['t'] >= start] or samples[-1:]
        good = sum(1 for s in window if _ran(s, keys, needs))
        out[name] = round(good / len(window), 4)
    return out


def _ran(
    sample: dict[str, Any],
    keys: list[str],
    needs: Callable[[Iterable[bool]], bool],
) -> bool:
    members = sample['members']
    return needs(bool(members.get(k, {}).get('running')) for k in keys)


def moves(
    before: dict[str, Any],
    after: dict[str, Any],
    appliances: dict[str, list[str]],
) -> list[dict[str, Any]]:
    """The members that run somewhere else after than before: what a cost
    change comes from. ``member`` is NAME/MEMBER (the appliance's name)."""
    names = {k: name for name, keys in appliances.items() for k in keys}
    out = []
    for key in sorted(set(before['members']) | set(after['members'])):
        was = before['members'].get(key) or {}
        now = after['members'].get(key) or {}
        old = was.get('site') if was.get('running') else None
        new = now.get('site') if now.get('running') else None
        if old != new:
            member = key.split('/', 1)[-1]
            out.append(
                {
                    'member': '%s/%s' % (names.get(key, '?'), member),
                    'from': old,
                    'to': new,
                }
            )
    return out


def unplaced(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Member key -> the planner's last reason, for every member it
    could not place at some point; and those still unplaced at the end."""
    reasons: dict[str, str] = {}
    for sample in samples:
        reasons.update(sample['unplaced'])
    last = samples[-1]
    still = sorted(
        key
        for key, m in last['members'].items()
        if m['site'] is None or key in last['unplaced']
    )
    return {'reasons': reasons, 'at_end': still}


def cost(
    sample: dict[str, Any],
    profiles: dict[str, dict[str, Any]],
    vcpus: dict[str, float],
    carbon_price: float,
) -> dict[str, Any]:
    """Per hour, for the members running in ``sample``: the objective
    (money), the idle power of the sites in use and its CO2."""
    placement = {
        key: (m['site'], vcpus.get(key, 1.0))
        for key, m in sample['members'].items()
        if m['running'] and m['site'] in profiles
    }
    used = sorted({site for site, _ in placement.values()})
    power = 0.0
    co2 = 0.0
    for site in used:
        profile = profiles[site]
        kw = float(
            profile.get('idle_power_kw') or objective.DEFAULT_IDLE_POWER_KW
        )
        kw *= float(profile.get('pue') or 1.0)
        power += kw
        co2 += kw * float(profile.get('carbon_intensity') or 0.0) / 1000.0
    return {
        't': sample['t'],
        'cost_per_hour': round(
            objective.total(profiles, placement, carbon_price), 4
        ),
        'power_kw': round(power, 3),
        'co2_kg_per_hour': round(co2, 3),
        'sites_in_use': used,
        'members_running': len(placement),
    }


def end_state(sample: dict[str, Any]) -> dict[str, Any]:
    members = sample['members']
    return {
        'placements': {k: m['site'] for k, m in members.items()},
        'on_dead_sites': sorted(
            key
            for key, m in members.items()
            if m['site'] is not None
            and (sample['sites'].get(m['site']) or {}).get('proc') != 'running'
        ),
        'doubles': list(sample['doubles']),
        'not_running': sorted(
            key for key, m in members.items() if not m['running']
        ),
        'all_running': all(m['running'] for m in members.values()),
    }


def false_downs(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each time the KB marked a site down while its process ran, in the
    sample before as in the one that saw it down: a false alarm (a
    crashed or frozen site is not running; one back from a crash is not
    marked down again)."""
    found = []
    for before, sample in zip(samples, samples[1:], strict=False):
        for name, site in sorted(sample['sites'].items()):
            was = before['sites'].get(name) or {}
            if (
                site['kb'] == 'down'
                and was.get('kb') != 'down'
                and site['proc'] == 'running'
                and was.get('proc') == 'running'
            ):
                found.append({'site': name, 't': sample['t']})
    return found


def site_state(site: dict[str, Any]) -> str:
    """One word for a site in a sample: the KB's status, or what the KB
    has not noticed yet (crashed, frozen)."""
    if site['kb'] == 'down':
        return 'down'
    if site['proc'] != 'running':
        return site['proc']
    if site['kb'] == 'up' and site.get('maintenance'):
        return site['maintenance']
    return site['kb']


def timeline(samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Samples made small: per site its state, members running there
    and members placed there."""
    out = []
    for sample in samples:
        per_site: dict[str, list[Any]] = {
            name: [site_state(site), 0, 0]
            for name, site in sorted(sample['sites'].items())
        }
        for member in sample['members'].values():
            row = per_site.get(member['site'])
            if row is not None:
                row[2] += 1
                row[1] += 1 if member['running'] else 0
        n = sample_mod.counts(sample)
        out.append(
            {
                't': sample['t'],
                'sites': per_site,
                'running': n['running'],
                'pending': n['pending'],
                'doubles': len(sample['doubles']),
            }
        )
    return out


def build(
    scenario: Any,
    samples: list[dict[str, Any]],
    events: list[dict[str, Any]],
    appliances: dict[str, list[str]],
    vcpus: dict[str, float],
    started: float,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole report. ``events``: what was played, each with its
    clock time ``t``; ``appliances``: name -> member keys; ``started``:
    the clock time every member first ran (events count from it)."""
    profiles = scenario.profiles()
    disruptive = [e for e in events if e['action'] in DISRUPTIONS]
    first = disruptive[0]['t'] if disruptive else samples[-1]['t']
    report: dict[str, Any] = {
        'scenario': scenario.name,
        'sites': [s.name for s in scenario.sites],
        'appliances': sorted(appliances),
        'members': sum(len(k) for k in appliances.values()),
        'started_s': started,
        'events': events,
        'failures': [failure(samples, e) for e in disruptive],
        'recoveries': [
            back_up(samples, e) for e in events if e['action'] == 'recover'
        ],
        'availability': availability(samples, appliances, started),
        'availability_any': availability(
            samples, appliances, started, needs=any
        ),
        'unplaced': unplaced(samples),
        'cost': {
            'before': cost(
                _before(samples, first),
                profiles,
                vcpus,
                scenario.carbon_price,
            ),
            'after': cost(samples[-1], profiles, vcpus, scenario.carbon_price),
            'moves': moves(_before(samples, first), samples[-1], appliances),
        },
        'end': end_state(samples[-1]),
        'false_downs': false_downs(samples),
        'samples': len(samples),
        'timeline': timeline(samples),
    }
    if getattr(scenario, 'owners', None):
        report['community'] = fairness.build(
            scenario, samples, events, started
        )
    report.update(extra or {})
    return report
