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

"""Errors raised by sodos, each with a message an operator can act on."""

from __future__ import annotations

from typing import Any


class SodosError(Exception):
    """Base class of every error sodos raises on purpose."""


class ConfigError(SodosError):
    """The configuration cannot work; the message names the option."""


class InvalidJson(SodosError, ValueError):
    """Not JSON, or a value JSON cannot carry: NaN or Infinity, a string
    with a lone surrogate, nesting deeper than the limit.

    A ValueError too, so that code reading JSON (which already catches
    ValueError for malformed text) refuses these the same way. ``path``
    is where, as keys and indexes from the top (empty when unknown);
    ``problem`` is what is wrong, without the place.
    """

    def __init__(
        self, message: str, path: tuple[Any, ...] = (), problem: str = ''
    ) -> None:
        super().__init__(message)
        self.path = list(path)
        self.problem = problem or message


class InvalidCommand(SodosError):
    """A command was malformed; nothing was submitted."""


class CommandRejected(SodosError):
    """The replicated state machine refused a committed command.

    The command is in the log but changed nothing (for example a plan made
    in a stale Raft term, or a lock held by someone else).
    """


class CommitTimeout(SodosError):
    """A write could not be committed before its deadline.

    The outcome is unknown: the command may still be applied later. It
    carries a unique id, so submitting it again never applies it twice.
    """


class NotReady(SodosError):
    """The local Knowledge Base member is not running or not caught up."""


class AuthenticationFailed(SodosError):
    """A peer did not prove it knows the federation password."""


class PeerUnreachable(SodosError):
    """No member named to join through answered."""


# A site's services fail in one of two ways: what may work when retried
# (an API down or timing out, a 5xx) and what will not. Exec's drivers
# raise these, and so do the identity writers, whose interface is part of
# the identity model (sodos.identity.writer): so they live here, below
# both, rather than with the drivers.


class TransientError(SodosError):
    """The site's API failed in a way a retry may fix."""


class PermanentError(SodosError):
    """The site refused the request; retrying will not help.

    ``details`` go into the action's failed result beside ``error``
    (``id_burnt`` of an image copy, say).
    """

    def __init__(
        self, message: str = '', details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.details: dict[str, Any] = dict(details or {})
