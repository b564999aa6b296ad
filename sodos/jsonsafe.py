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

"""Values JSON can carry, and only those.

Python's ``json`` accepts more than JSON: ``NaN``, ``Infinity`` and
``-Infinity`` (and ``1e999``, which becomes Infinity), and ``"\\ud800"``,
which decodes to a lone surrogate that no UTF-8 encoder accepts. Once in
the Knowledge Base such a value is replicated to every site, and every
answer that includes it is invalid JSON or fails to encode. Deep nesting
makes the C decoder, PyYAML and any recursive walk raise RecursionError.

Whatever enters sodos from outside (the REST API, the control channel,
scenario and spec files, the KB's submit) is read with :func:`loads` or
:func:`load_yaml`, or checked with :func:`check`; each raises
:class:`sodos.exception.InvalidJson` naming the place, e.g.
``spec.members[2].name: NaN is not allowed``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from typing import Any

import yaml

from sodos import exception

# Deeper than any document sodos reads (its schemas nest about 6 levels),
# far below where the recursive decoders fail (about 1000).
MAX_DEPTH = 64

# A surrogate in a decoded str is always a lone one: the decoder joins
# a valid pair into one character.
_SURROGATE = re.compile('[\ud800-\udfff]')
# A string, closed or running to the end of the (then invalid) text.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')
_STEP = {'[': 1, '{': 1, ']': -1, '}': -1}
_IDENTIFIER = re.compile('[A-Za-z_][A-Za-z0-9_]*')


def _where(top: str, path: tuple[Any, ...]) -> str:
    """``top`` and ``path`` as ``top.a[2].b``; any other key is quoted
    (repr), so a newline or a surrogate in it cannot break a log line."""
    out = top
    for step in path:
        if isinstance(step, int) and not isinstance(step, bool):
            out += '[%d]' % step
        elif isinstance(step, str) and _IDENTIFIER.fullmatch(step):
            out += ('.' if out else '') + step
        else:
            out += '[%r]' % step
    return out or '(top level)'


def _invalid(
    top: str, path: tuple[Any, ...], problem: str
) -> exception.InvalidJson:
    return exception.InvalidJson(
        '%s: %s' % (_where(top, path), problem), path, problem
    )


def _number(value: float) -> str:
    if math.isnan(value):
        return 'NaN is not allowed (JSON has no NaN)'
    return '%s is not allowed (JSON has no infinite numbers)' % (
        'Infinity' if value > 0 else '-Infinity'
    )


def _surrogate(text: str, what: str) -> str:
    found = _SURROGATE.search(text)
    assert found is not None
    return '%s has a lone surrogate (%r at %d): not valid Unicode' % (
        what,
        found.group(),
        found.start(),
    )


def check(value: Any, top: str = 'value', max_depth: int = MAX_DEPTH) -> None:
    """Raise InvalidJson if JSON cannot carry ``value`` faithfully.

    For values that did not come from :func:`loads` (YAML, arguments,
    Python callers): no NaN or infinite float, no lone surrogate in a
    string or a key, no more than ``max_depth`` nested lists and dicts.
    The walk is iterative, so any depth is refused without recursing.
    """
    problem = _scalar(value)
    if problem:
        raise _invalid(top, (), problem)
    # Containers only, with how many are around them and their path
    # from the top as a linked list (built into a tuple on error only).
    stack: list[tuple[Any, int, Any]] = [(value, 0, None)]
    while stack:
        node, depth, trail = stack.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, (list, tuple)):
            items = enumerate(node)
        else:
            continue
        if depth >= max_depth:
            raise _invalid(top, _path(trail), _too_deep(max_depth))
        nested = []
        for key, item in items:
            if isinstance(key, str) and _bad_text(key):
                raise _invalid(
                    top, _path(trail), _surrogate(key, 'key %r' % key)
                )
            if isinstance(item, (dict, list, tuple)):
                nested.append((item, depth + 1, (key, trail)))
            else:
                problem = _scalar(item)
                if problem:
                    raise _invalid(top, _path((key, trail)), problem)
        stack.extend(reversed(nested))


def _bad_text(text: str) -> bool:
    return not text.isascii() and _SURROGATE.search(text) is not None


def _scalar(value: Any) -> str:
    """What is wrong with a value that is not a list or dict ('' if
    nothing)."""
    if isinstance(value, str):
        return _surrogate(value, 'string') if _bad_text(value) else ''
    if isinstance(value, float) and not math.isfinite(value):
        return _number(value)
    return ''


def _path(trail: Any) -> tuple[Any, ...]:
    steps = []
    while trail is not None:
        step, trail = trail
        steps.append(step)
    return tuple(reversed(steps))


def _too_deep(max_depth: int) -> str:
    return 'nested deeper than %d levels' % max_depth


def _check_nesting(text: str, top: str, max_depth: int) -> None:
    """Refuse deep text before the (recursive) decoder sees it."""
    if text.count('[') + text.count('{') <= max_depth:
        return
    # The brackets outside strings, counted by C loops only: under
    # 0.2 s for a megabyte of brackets, the worst case.
    brackets = _NOT_BRACKET.sub('', _STRING.sub('', text))
    depths = itertools.accumulate(map(_STEP.__getitem__, brackets))
    if max(depths, default=0) > max_depth:
        raise _invalid(top, (), _too_deep(max_depth))


def loads(
    data: str | bytes, top: str = 'value', max_depth: int = MAX_DEPTH
) -> Any:
    """Decode JSON text (bytes must be UTF-8) holding only what JSON can
    carry: :func:`check`'s rules, and malformed text, raise InvalidJson.
    """
    if isinstance(data, (bytes, bytearray)):
        try:
            text = bytes(data).decode('utf-8')
        except UnicodeDecodeError as exc:
            raise _invalid(top, (), 'not UTF-8: %s' % exc) from None
    else:
        text = data
    _check_nesting(text, top, max_depth)
    try:
        # NaN and the infinities decode to floats that check() then
        # refuses, naming where they are (a parse_constant hook could
        # not say where); so does 1e999, which decodes to Infinity.
        value = json.loads(text)
    except ValueError as exc:
        raise _invalid(top, (), 'not JSON: %s' % exc) from None
    check(value, top, max_depth)
    return value


def load_yaml(
    text: str, top: str = 'value', max_depth: int = MAX_DEPTH
) -> Any:
    """``yaml.safe_load`` and :func:`check`; YAML errors are raised as
    they are (callers report their position)."""
    try:
        value = yaml.safe_load(text)
    except RecursionError:
        # PyYAML composes recursively: a few hundred levels exhaust the
        # stack. Counting them first would need a YAML tokenizer; the
        # error is caught at once and nothing was built.
        raise _invalid(top, (), _too_deep(max_depth)) from None
    check(value, top, max_depth)
    return value
