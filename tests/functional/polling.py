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
"""Waiting for something another process does, with one clear failure.

The functional tests watch real processes: a state they wait for shows in
a report, the KB or a log file, with nothing to synchronise on. They poll,
and a timeout fails with what was last seen so the failure explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(
    check: Callable[[], Any],
    what: str,
    timeout: float,
    interval: float = 0.2,
    tolerate: tuple[type[BaseException], ...] = (),
    seen: Callable[[], Any] | None = None,
) -> Any:
    """Poll ``check()`` until it returns a true value, and return it.

    ``tolerate`` names exceptions that mean "not yet" (a read during an
    election). On timeout, the AssertionError shows ``seen()`` if given,
    else the last value or exception ``check`` gave.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except tolerate as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            break
        time.sleep(interval)
    shown = seen() if seen is not None else last
    raise AssertionError(
        'timed out after %.0f s waiting for %s; last seen: %r'
        % (timeout, what, shown)
    )


def wait_for_line(path: Any, text: str, timeout: float = 30.0) -> str:
    """Wait until the file at ``path`` contains ``text``; its content."""

    def content() -> str:
        try:
            with open(path, encoding='utf-8') as f:
                return f.read()
        except FileNotFoundError:
            return ''

    def has_text() -> str | None:
        found = content()
        return found if text in found else None

    try:
        return wait_until(has_text, repr(text), timeout)
    except AssertionError:
        raise AssertionError(
            '%r not in %s after %.0f s:\n%s'
            % (text, path, timeout, content()[-3000:])
        ) from None
