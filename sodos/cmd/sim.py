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

"""sodos-sim: a whole federation on one machine, from a scenario.

    sodos-sim run SCENARIO.yaml [--output DIR] [--keep]
    sodos-sim validate SCENARIO.yaml

``run`` starts one real site process per site on 127.0.0.1, plays the
scenario's events, prints progress on stderr and a summary at the end,
and writes ``report.json`` and ``timeline.html`` into ``--output``
(default: a new folder ``sodos-sim-NAME-TIME`` here). ``--keep`` keeps the
sites' configuration, data and logs there too. Exit status: 0 when the
scenario ran, 1 when the scenario is invalid, 2 when it could not run,
130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from typing import Any

from sodos import exception
from sodos.sim import runner as runner_mod
from sodos.sim import scenario as scenario_mod
from sodos.sim import text
from sodos.sim import timeline_html


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: Any) -> None:
    # SIGTERM ends a run as Ctrl-C does: every site process is stopped
    # (the runner's with-blocks and finally-clauses do it).
    raise KeyboardInterrupt


def _output_dir(args: argparse.Namespace, name: str) -> str:
    if args.output:
        return os.path.abspath(args.output)
    stamp = time.strftime('%Y%m%d-%H%M%S')
    return os.path.abspath('sodos-sim-%s-%s' % (name, stamp))


def write(report: dict[str, Any], output: str) -> None:
    with open(os.path.join(output, 'report.json'), 'w') as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write('\n')
    with open(os.path.join(output, 'timeline.html'), 'w') as f:
        f.write(timeline_html.render(report))


def run(args: argparse.Namespace) -> int:
    sc = scenario_mod.load(args.scenario)
    output = _output_dir(args, sc.name)
    os.makedirs(output, exist_ok=True)
    _log(
        'scenario %s: %d sites, %d appliances, %d events; output in %s'
        % (sc.name, len(sc.sites), len(sc.appliances), len(sc.events), output)
    )
    started = time.monotonic()
    runner = runner_mod.Runner(
        sc, output, _log, keep=args.keep, status_page=args.status_page
    )
    report = runner.run()
    report['wall_s'] = round(time.monotonic() - started, 1)
    write(report, output)
    print(text.summary(report))
    print(
        '\nreport: %s\ntimeline: %s'
        % (
            os.path.join(output, 'report.json'),
            os.path.join(output, 'timeline.html'),
        )
    )
    return 130 if report.get('interrupted') else 0


def validate(args: argparse.Namespace) -> int:
    sc = scenario_mod.load(args.scenario)
    members = sum(
        sum(m['count'] for m in a.spec['members']) for a in sc.appliances
    )
    print(
        '%s: valid: %d sites, %d appliances (%d members), %d events'
        % (
            args.scenario,
            len(sc.sites),
            len(sc.appliances),
            members,
            len(sc.events),
        )
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog='sodos-sim', description=__doc__.split('\n')[1]
    )
    commands = top.add_subparsers(dest='command', required=True)
    run_cmd = commands.add_parser('run', help='play a scenario')
    run_cmd.add_argument('scenario', help='the scenario YAML file')
    run_cmd.add_argument(
        '--output', help='where report.json and timeline.html go'
    )
    run_cmd.add_argument(
        '--status-page',
        action='store_true',
        help='the first site serves the REST API (noauth) and the live '
        'status page while the scenario plays; its URL is logged',
    )
    run_cmd.add_argument(
        '--keep',
        action='store_true',
        help="keep the sites' configuration, data and logs in OUTPUT/sites",
    )
    run_cmd.set_defaults(func=run)
    check = commands.add_parser('validate', help='check a scenario file')
    check.add_argument('scenario', help='the scenario YAML file')
    check.set_defaults(func=validate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    # Also when started in the background, where SIGINT is ignored.
    signal.signal(signal.SIGINT, _interrupt)
    try:
        code: int = args.func(args)
        return code
    except scenario_mod.InvalidScenario as exc:
        _log('sodos-sim: %s' % exc)
        return 1
    except (exception.SodosError, OSError) as exc:
        _log('sodos-sim: could not run the scenario: %s' % exc)
        return 2
    except KeyboardInterrupt:
        _log('sodos-sim: interrupted; every site process was stopped')
        return 130


if __name__ == '__main__':
    sys.exit(main())
