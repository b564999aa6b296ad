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

"""What the events of a scenario do to the federation of a run.

One function per action of :data:`sodos.sim.scenario_model.ACTIONS`. Each gets
the runner, whose ``procs`` (what was done to each site process),
``extras`` (the config a site was started with) and ``load_ids`` (the
appliances a ``load`` event pinned to a site) it updates, so that the
samples show the state of each process and ``recover`` can undo
``crash``, ``freeze`` and ``load``.
"""

from __future__ import annotations

import signal
import uuid
from concurrent import futures
from typing import TYPE_CHECKING
from typing import Any

from sodos import exception
from sodos.domain import appliance as appliance_mod
from sodos.sim import federation
from sodos.sim import scenario as scenario_mod
from sodos.sim import text

if TYPE_CHECKING:
    # Only for the annotations: the runner imports this module.
    from sodos.sim import runner as runner_mod

DEMAND_CONCURRENCY = 16


def fire(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    """Do ``event`` now and record it in ``run.played``. An event that
    fails is recorded with its error and the run goes on."""
    t = run.clock()
    record: dict[str, Any] = {
        'index': event.index,
        'at': event.at,
        't': round(t, 3),
        'action': event.action,
        'sites': list(event.sites),
        'what': event.describe(),
    }
    if event.note:
        record['note'] = event.note
    if event.owner:
        record['owner'] = event.owner
    try:
        ACTIONS[event.action](run, fed, client, event)
    except exception.SodosError as exc:
        record['error'] = str(exc)
        run.log('event %s failed: %s' % (event.describe(), exc))
    run.played.append(record)
    run.show_event('%s @%.0f' % (event.describe(), event.at))
    run.log(
        '%s event: %s' % (text.clock_label(t, run.started), event.describe())
    )


def crash(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    for name in event.sites:
        fed.sites[name].kill()
        run.procs[name] = 'crashed'


def freeze(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    for name in event.sites:
        fed.sites[name].freeze()
        run.procs[name] = 'frozen'


def recover(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    for name in event.sites:
        site = fed.sites[name]
        if run.procs[name] == 'crashed':
            site.start()
        elif run.procs[name] == 'frozen':
            site.thaw()
        run.procs[name] = 'running'
        simulator = run.extras[name]['simulator']
        if simulator.pop('failed_hosts', None):
            site.write_config(**run.extras[name])
            site.signal(signal.SIGHUP)
        for appliance_id in run.load_ids.pop(name, []):
            client.propose('appliance.delete', {'appliance_id': appliance_id})


def drain(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    for name in event.sites:
        client.propose('site.maintenance', {'site': name, 'state': 'draining'})


def undrain(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    for name in event.sites:
        client.propose('site.maintenance', {'site': name, 'state': ''})


def policy(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    client.propose('policy.set', {'key': event.key, 'value': event.value})


def load(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    """Capacity lost (hosts failed, via the simulator's mutable failure
    switch and SIGHUP) and usage added (appliances pinned to the site)."""
    for name in event.sites:
        site = fed.sites[name]
        if event.hosts_down:
            run.extras[name]['simulator']['failed_hosts'] = [
                str(n) for n in range(1, event.hosts_down + 1)
            ]
            site.write_config(**run.extras[name])
            site.signal(signal.SIGHUP)
        for n in range(event.extra):
            appliance_id = uuid.uuid4().hex
            spec = appliance_mod.validate(
                {
                    'name': 'load-%s-%d' % (name, n),
                    'priority': 0,
                    'members': [
                        {
                            'name': 'load',
                            'image': 'fake-image',
                            'flavor': event.flavor,
                        }
                    ],
                    'constraints': {'sites': [name]},
                }
            )
            client.propose(
                'appliance.put', {'appliance_id': appliance_id, 'spec': spec}
            )
            run.load_ids.setdefault(name, []).append(appliance_id)


def demand(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    """An owner's project asks for ``extra`` more one-member appliances
    (anywhere its policy and the others' let them go)."""
    owner = next(o for o in run.scenario.owners if o.name == event.owner)
    vcpus = float(scenario_mod.FLAVORS[event.flavor]['vcpus'])
    puts: list[dict[str, Any]] = []
    for n in range(event.extra):
        appliance_id = uuid.uuid4().hex
        spec = appliance_mod.validate(
            {
                'name': 'demand-%s-%d' % (owner.name, len(run.owned) + n),
                'project_id': owner.project_id,
                'members': [
                    {
                        'name': 'vm',
                        'image': 'fake-image',
                        'flavor': event.flavor,
                    }
                ],
            }
        )
        puts.append({'appliance_id': appliance_id, 'spec': spec})
    # At once: one after the other, each waiting for its commit, the
    # planner would see the demand trickle in and place it as it comes.
    with futures.ThreadPoolExecutor(DEMAND_CONCURRENCY) as pool:
        list(
            pool.map(lambda args: client.propose('appliance.put', args), puts)
        )
    for args in puts:
        run.demand_ids.setdefault(owner.name, []).append(args['appliance_id'])
        for inst in appliance_mod.instances(
            args['appliance_id'], args['spec']
        ):
            run.owned[inst.key] = (owner.name, vcpus)


def release(
    run: runner_mod.Runner,
    fed: federation.LocalFederation,
    client: Any,
    event: scenario_mod.Event,
) -> None:
    """The owner's demands are deleted (its scenario appliances stay)."""
    ids = run.demand_ids.pop(event.owner, [])
    with futures.ThreadPoolExecutor(DEMAND_CONCURRENCY) as pool:
        list(
            pool.map(
                lambda i: client.propose(
                    'appliance.delete', {'appliance_id': i}
                ),
                ids,
            )
        )
    gone = tuple(i + '/' for i in ids)
    for key in [k for k in run.owned if k.startswith(gone)]:
        del run.owned[key]


ACTIONS = {
    'crash': crash,
    'freeze': freeze,
    'recover': recover,
    'drain': drain,
    'undrain': undrain,
    'policy': policy,
    'load': load,
    'demand': demand,
    'release': release,
}
