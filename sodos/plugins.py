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

"""Plugins installed in a stevedore namespace."""

import functools
import importlib.metadata
from typing import Any

from stevedore import driver

from sodos import exception


def names(namespace: str) -> list[str]:
    """Names installed in an entry-point namespace, without loading any.

    Checking a configured name against this list gives the operator an
    error naming the option, where stevedore would log a warning first.
    """
    return list(_names(namespace))


# Reading entry points scans every installed distribution (tens of
# milliseconds); control loops look plugins up every cycle. What is
# installed does not change under a running process.
@functools.cache
def _names(namespace: str) -> tuple[str, ...]:
    points = importlib.metadata.entry_points(group=namespace)
    return tuple(sorted({point.name for point in points}))


@functools.cache
def _loaded(namespace: str, name: str) -> Any:
    manager: driver.DriverManager = driver.DriverManager(
        namespace, name, on_load_failure_callback=raise_load_failure
    )
    return manager.driver


def load(
    namespace: str,
    name: str,
    option: str,
    kind: str,
    invoke_args: tuple[Any, ...] | None = None,
) -> Any:
    """The plugin ``name`` of ``namespace``: its object, or its instance.

    With ``invoke_args`` the plugin is called with them (a driver made
    from the configuration); without, the loaded object is returned.

    :raises ConfigError: naming ``option`` for a name that is not
        installed, or saying why the plugin could not be made.
    """
    known = names(namespace)
    if name not in known:
        raise exception.ConfigError(
            '%s: unknown %s %r (known: %s)'
            % (option, kind, name, ', '.join(known))
        )
    try:
        loaded = _loaded(namespace, name)
        return loaded if invoke_args is None else loaded(*invoke_args)
    except Exception as exc:
        raise exception.ConfigError(
            'cannot load %s %r: %s' % (kind, name, exc)
        ) from exc


def raise_load_failure(
    manager: object,
    entry_point: importlib.metadata.EntryPoint,
    exc: BaseException,
) -> None:
    # stevedore would log and carry on without the plugin; the caller
    # wants the reason.
    raise exc
