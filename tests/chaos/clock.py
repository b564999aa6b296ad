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

"""Clock skew for a site: libfaketime, from the distribution.

A skewed site runs with ``LD_PRELOAD`` of libfaketime and a relative
``FAKETIME`` offset: its wall clock (``time.time()``, the timestamps it
stamps on commands and reports) is ahead or behind the others'. Its
monotonic clock is left alone: a process's own timeouts are not what
differs between two machines.

libfaketime is installed with apt-get when it is absent (Debian package
``libfaketime``), as the status page's test installs Chromium.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

PACKAGE = 'libfaketime'
# Where Debian and others put the library.
PATTERNS = (
    '/usr/lib/*/faketime/libfaketime.so.1',
    '/usr/lib/faketime/libfaketime.so.1',
    '/usr/local/lib/faketime/libfaketime.so.1',
)


class Unavailable(Exception):
    """libfaketime is not here and could not be installed."""


def find() -> str | None:
    for pattern in PATTERNS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def install() -> str | None:
    """apt-get install libfaketime (needs root); the error, or None."""
    if shutil.which('apt-get') is None:
        return 'apt-get is not here to install %s' % PACKAGE
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    for command in (
        ['apt-get', 'update', '-q'],
        ['apt-get', 'install', '-y', '-q', '--no-install-recommends', PACKAGE],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=900
        )
        if done.returncode:
            return '%s: %s' % (' '.join(command), done.stderr[-2000:])
    return None


def ensure() -> str:
    """The library's path, installed first if need be.

    :raises Unavailable: naming why it could not be installed.
    """
    library = find()
    if library is None:
        error = install()
        library = find()
        if library is None:
            raise Unavailable(
                'libfaketime is missing (clock skew needs it): %s'
                % (error or 'installed, but not found')
            )
    return library


def offset(seconds: float) -> str:
    """``FAKETIME`` for a clock ``seconds`` ahead (behind if negative)."""
    return '%+d' % round(seconds)


def environment(library: str, seconds: float) -> dict[str, str]:
    """What a process runs with to see its wall clock ``seconds`` off."""
    return {
        'LD_PRELOAD': library,
        'FAKETIME': offset(seconds),
        'FAKETIME_DONT_FAKE_MONOTONIC': '1',
    }
