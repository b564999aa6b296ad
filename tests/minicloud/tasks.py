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

"""The tasks of a site start, which fail together.

A site starts as parallel tasks (startup.py); when one fails the others
have nothing to wait for, so the first failure is kept, as the root
cause to report, and sets `abort`, which the others check at each step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent import futures
from typing import Any

from tests.minicloud import errors


class Group:
    def __init__(self) -> None:
        self.abort = threading.Event()
        self.first_error: errors.MinicloudError | None = None
        self._lock = threading.Lock()

    def guard(
        self, phase: str, log: str | None, fn: Callable[..., None], *args: Any
    ) -> None:
        """Run a task; any failure becomes a MinicloudError and aborts."""
        try:
            fn(*args)
        except errors.MinicloudError as e:
            self._failed(e)
            raise
        except Exception as e:
            error = errors.MinicloudError(
                phase, '%s: %s' % (type(e).__name__, e), log
            )
            self._failed(error)
            raise error from e

    def _failed(self, error: errors.MinicloudError) -> None:
        with self._lock:
            if self.first_error is None:
                self.first_error = error
        self.abort.set()


def parallel(*calls: Callable[[], None]) -> None:
    """Run calls at once; the first failure (in call order) is raised."""
    with futures.ThreadPoolExecutor(max_workers=len(calls)) as pool:
        for future in [pool.submit(c) for c in calls]:
            future.result()
