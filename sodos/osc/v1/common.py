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

"""What the ``openstack sodos`` commands share: columns that print one
way for people and another for ``-f json|yaml``, and ``--wait``.

``--wait`` polls the API until the thing asked for is true, writing one
progress line to stderr each time the progress changes (stdout keeps
only the command's result, so ``-f json`` stays parseable), and fails
with the last progress seen when the timeout passes.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import TextIO
from typing import cast

from cliff import columns
from osc_lib import exceptions
from osc_lib.cli import format_columns

from sodos.osc import client

DEFAULT_TIMEOUT = 600.0
# Seconds between two polls of --wait; tests make it shorter.
POLL_INTERVAL = 2.0


def api(app: Any) -> client.Client:
    """The sodos client that OpenStackClient's client manager made."""
    return cast(client.Client, app.client_manager.sodos)


class TimeColumn(columns.FormattableColumn[Any]):
    """A Unix timestamp, shown as UTC ISO 8601 in every format.

    ``-f json`` and ``-f yaml`` get the same ISO text the table shows, as
    OpenStack's own clients print times; ``None`` stays null there.
    """

    def human_readable(self) -> str:
        if not isinstance(self._value, (int, float)):
            return '' if self._value is None else str(self._value)
        moment = datetime.datetime.fromtimestamp(self._value, datetime.UTC)
        return moment.isoformat(timespec='seconds')

    def machine_readable(self) -> Any:
        if self._value is None:
            return None
        return self.human_readable()


class RowsColumn(columns.FormattableColumn[Any]):
    """A list of mappings, one ``k=v, k=v`` line each for people."""

    def human_readable(self) -> str:
        rows = self._value or []
        return '\n'.join(
            ', '.join('%s=%s' % (k, _text(v)) for k, v in row.items())
            if isinstance(row, dict)
            else _text(row)
            for row in rows
        )

    def machine_readable(self) -> Any:
        return self._value


class MappingColumn(columns.FormattableColumn[Any]):
    """A mapping, ``k=v, k=v`` for people (lists and mappings inside it
    as JSON)."""

    def human_readable(self) -> str:
        return ', '.join(
            '%s=%s' % (k, _text(v)) for k, v in sorted(self._value.items())
        )

    def machine_readable(self) -> Any:
        return self._value


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return '' if value is None else str(value)


def formatted(value: Any) -> Any:
    """``value`` wrapped in the column type that prints it well."""
    if isinstance(value, dict):
        return MappingColumn(value)
    if isinstance(value, list):
        if any(isinstance(v, dict) for v in value):
            return RowsColumn(value)
        return format_columns.ListColumn(value)
    return value


def show(
    record: dict[str, Any],
    order: Iterable[str] = (),
    times: Iterable[str] = (),
    wrap: Mapping[str, Callable[[Any], Any]] | None = None,
) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """ShowOne's answer: ``order`` first, then any other key, sorted.

    ``times`` are shown as TimeColumn; ``wrap`` maps a key to the column
    type that shows it (for the keys a command prints its own way)."""
    order = list(order)
    keys = [k for k in order if k in record] + sorted(
        k for k in record if k not in order
    )
    times, wrap = set(times), wrap or {}
    values = tuple(
        wrap[k](record[k])
        if k in wrap
        else TimeColumn(record[k])
        if k in times
        else formatted(record[k])
        for k in keys
    )
    return tuple(keys), values


def rows(
    records: Iterable[dict[str, Any]],
    keys: Iterable[str],
    times: Iterable[str] = (),
) -> list[tuple[Any, ...]]:
    keys, times = list(keys), set(times)
    return [
        tuple(
            TimeColumn(r.get(k)) if k in times else formatted(r.get(k))
            for k in keys
        )
        for r in records
    ]


def listing(
    records: Iterable[dict[str, Any]],
    keys: Iterable[str],
    times: Iterable[str] = (),
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Lister's answer: a heading per key, a row per record."""
    keys = tuple(keys)
    return tuple(heading(k) for k in keys), rows(records, keys, times)


def heading(key: str) -> str:
    """``members_active`` -> ``Members Active``, as OSC lists name
    their columns."""
    return ' '.join(
        'ID' if w == 'id' else 'API' if w == 'api' else w.capitalize()
        for w in key.split('_')
    )


def wait_for(
    fetch: Callable[[], Any],
    progress: Callable[[Any], tuple[bool, str]],
    timeout: float,
    what: str,
    stream: TextIO | None = None,
) -> Any:
    """Poll ``fetch()`` until ``progress(result)`` says done.

    ``progress`` returns ``(done, text)``; each new ``text`` is written
    to ``stream`` (stderr) on a line of its own. Returns the last result;
    raises CommandError naming ``what`` and the last progress on timeout.
    An API briefly ``unavailable`` (a new leader being elected) is waited
    for too; any other error ends the wait.
    """
    stream = stream or sys.stderr
    deadline = time.monotonic() + timeout
    last_text = None
    while True:
        try:
            result = fetch()
        except client.ApiError as exc:
            if exc.code != 'unavailable':
                raise
            done, text = False, 'API unavailable: %s' % exc.message
        else:
            done, text = progress(result)
        if text != last_text:
            stream.write(text + '\n')
            stream.flush()
            last_text = text
        if done:
            return result
        if time.monotonic() >= deadline:
            raise exceptions.CommandError(
                'timed out after %g s waiting for %s (last: %s)'
                % (timeout, what, text)
            )
        time.sleep(min(POLL_INTERVAL, max(0.0, deadline - time.monotonic())))


def wait_arguments(parser: argparse.ArgumentParser, until: str) -> None:
    """``--wait`` (until ``until``) and ``--timeout``."""
    parser.add_argument(
        '--wait',
        action='store_true',
        help='wait until %s (progress on stderr)' % until,
    )
    parser.add_argument(
        '--timeout',
        type=positive,
        default=DEFAULT_TIMEOUT,
        metavar='<seconds>',
        help='how long to wait, in seconds (default %g)' % DEFAULT_TIMEOUT,
    )


def wait_gone(
    fetch: Callable[[], dict[str, Any]],
    left: Callable[[dict[str, Any]], str],
    gone: str,
    timeout: float,
    what: str,
    stream: TextIO | None = None,
) -> None:
    """Wait until ``fetch()`` answers ``not_found``.

    ``left(record)`` is the progress line while the record is still
    there, ``gone`` the line once it is not."""

    def fetch_or_none() -> dict[str, Any] | None:
        try:
            return fetch()
        except client.ApiError as exc:
            if exc.code == 'not_found':
                return None
            raise

    def progress(record: dict[str, Any] | None) -> tuple[bool, str]:
        if record is None:
            return True, gone
        return False, left(record)

    wait_for(fetch_or_none, progress, timeout, what, stream)


def named(
    records: Iterable[dict[str, Any]], ref: str, plural: str
) -> dict[str, Any] | None:
    """The one record named ``ref``, None if none is; CommandError
    listing their ids if several are."""
    found = [r for r in records if r.get('name') == ref]
    if len(found) > 1:
        raise exceptions.CommandError(
            'several %s are named %s: give one of their ids (%s)'
            % (plural, ref, ', '.join(r['id'] for r in found))
        )
    return found[0] if found else None


def delete_each(
    app: Any,
    refs: list[str],
    resolve: Callable[[str], dict[str, Any]],
    delete: Callable[[str], Any],
    what: str,
    wait: Callable[[dict[str, Any]], Any] | None = None,
) -> None:
    """Delete every ref, going on past the ones that fail.

    A failure is written to stderr with its ref; once every deletion is
    asked for (and, with ``wait``, waited for), CommandError counts the
    failures. ``what`` is the plural, ``appliance(s)`` say."""
    deleted, failed = [], []
    for ref in refs:
        try:
            record = resolve(ref)
            delete(record['id'])
            deleted.append(record)
        except exceptions.CommandError as exc:
            app.stderr.write('%s: %s\n' % (ref, exc))
            failed.append(ref)
    if wait is not None:
        for record in deleted:
            wait(record)
    if failed:
        raise exceptions.CommandError(
            '%d of %d %s not deleted: %s'
            % (len(failed), len(refs), what, ', '.join(failed))
        )


def positive(text: str) -> float:
    """argparse type of --timeout."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise ValueError(text)
    return value


def number(
    convert: Callable[[str], Any],
    name: str,
    high: float | None = None,
) -> Callable[[str], Any]:
    """An argparse type: ``convert`` of the text, at least 0 and at most
    ``high``; ``name`` is what argparse's error calls it ("invalid
    percentage value: '120'")."""

    def parse(text: str) -> Any:
        value = convert(text)
        if value < 0 or (high is not None and value > high):
            raise ValueError(text)
        return value

    parse.__name__ = name
    return parse


# argparse types: the figures of ``site set``, counts, percentages.
non_negative = number(float, 'non-negative number')
count = number(int, 'count')
percentage = number(float, 'percentage', high=100)
