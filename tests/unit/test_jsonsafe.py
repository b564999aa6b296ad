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

"""The strict JSON reader: only what JSON can carry, whatever the input."""

import math

import pytest

from sodos import exception
from sodos import jsonsafe


def refused(text, top='body'):
    with pytest.raises(exception.InvalidJson) as info:
        jsonsafe.loads(text, top)
    assert isinstance(info.value, exception.SodosError)
    assert isinstance(info.value, ValueError)
    return info.value


def nested(levels, inner='1'):
    return '[' * levels + inner + ']' * levels


@pytest.mark.parametrize(
    'text, message',
    [
        ('NaN', 'body: NaN is not allowed'),
        ('{"a": NaN}', 'body.a: NaN is not allowed'),
        ('[1, Infinity]', 'body[1]: Infinity is not allowed'),
        ('{"x": [-Infinity]}', 'body.x[0]: -Infinity is not allowed'),
        ('{"big": 1e999}', 'body.big: Infinity is not allowed'),
        (
            '{"spec": {"members": [{}, {}, {"name": NaN}]}}',
            'body.spec.members[2].name: NaN is not allowed',
        ),
        ('{"a b": NaN}', "body['a b']: NaN is not allowed"),
    ],
)
def test_nan_and_the_infinities_are_refused_where_they_are(text, message):
    assert str(refused(text)).startswith(message)


def test_the_path_and_the_problem_are_kept_apart():
    error = refused('{"spec": {"members": [{"name": NaN}]}}')
    assert error.path == ['spec', 'members', 0, 'name']
    assert error.problem.startswith('NaN is not allowed')


@pytest.mark.parametrize(
    'text, where',
    [
        ('"\\ud800"', 'body: string'),
        ('{"name": "ab\\udc00"}', 'body.name: string'),
        ('{"\\ud800": 1}', "body: key '\\ud800'"),
        ('{"k": {"ok\\udfff": 1}}', "body.k: key 'ok\\udfff'"),
        ('["\\ude00\\ud83d"]', 'body[0]: string'),  # a pair the wrong way
    ],
)
def test_lone_surrogates_are_refused_in_values_and_keys(text, where):
    message = str(refused(text))
    assert message.startswith(where), message
    assert 'lone surrogate' in message


def test_a_valid_surrogate_pair_is_one_character():
    assert jsonsafe.loads('{"\\ud83d\\ude00": "\\ud83d\\ude00"}') == {
        '😀': '😀'
    }


def test_undecodable_bytes_and_malformed_text_are_refused():
    assert 'not UTF-8' in str(refused(b'"\xff"'))
    # UTF-8 never encodes a surrogate: these bytes are not UTF-8 either.
    assert 'not UTF-8' in str(refused(b'"\xed\xa0\x80"'))
    assert 'not JSON' in str(refused('{"a": '))


def test_nesting_up_to_the_limit_is_accepted():
    limit = jsonsafe.MAX_DEPTH
    assert jsonsafe.loads(nested(limit)) == jsonsafe.loads(nested(limit))
    dicts = '{"a": ' * limit + '1' + '}' * limit
    assert jsonsafe.loads(dicts)['a']['a'] is not None


@pytest.mark.parametrize('levels', [jsonsafe.MAX_DEPTH + 1, 5000, 100_000])
def test_deeper_nesting_is_refused_without_recursing(levels):
    # json.loads alone raises RecursionError from about 1000 levels.
    assert 'nested deeper than 64 levels' in str(refused(nested(levels)))


def test_brackets_in_strings_are_not_nesting():
    text = '["%s", "\\"%s"]' % ('[' * 200, '{' * 200)
    assert jsonsafe.loads(text) == ['[' * 200, '"' + '{' * 200]


def test_a_lower_limit_can_be_asked_for():
    assert jsonsafe.loads(nested(3), max_depth=3) == [[[1]]]
    with pytest.raises(exception.InvalidJson, match='deeper than 2'):
        jsonsafe.loads(nested(3), max_depth=2)


def test_check_refuses_python_values_json_cannot_carry():
    with pytest.raises(exception.InvalidJson, match=r'^v\.a\[1\]: NaN'):
        jsonsafe.check({'a': ('x', math.nan)}, 'v')
    with pytest.raises(exception.InvalidJson, match=r'^v\[1\]\[None\]: -Inf'):
        jsonsafe.check({1: {None: -math.inf}}, 'v')
    with pytest.raises(exception.InvalidJson, match='lone surrogate'):
        jsonsafe.check(['\udc80'], 'v')
    jsonsafe.check({'ok': [1, 2.5, 'é', None, True, {'😀': []}]})


def test_check_ends_on_a_value_that_contains_itself():
    loop = []
    loop.append(loop)
    with pytest.raises(exception.InvalidJson, match='nested deeper'):
        jsonsafe.check(loop)


@pytest.mark.parametrize('key', ['a\\nb', 'ab\\n', '\\nab', '1a', 'a b'])
def test_a_key_that_is_not_a_name_is_quoted_in_the_message(key):
    message = str(refused('{"%s": NaN}' % key))
    assert message.startswith('body[%r]' % key.replace('\\n', '\n'))
    assert '\n' not in message


@pytest.mark.parametrize(
    'text, message',
    [
        ('a: [1, .nan]', 'f.yaml.a[1]: NaN is not allowed'),
        ('a: -.inf', 'f.yaml.a: -Infinity is not allowed'),
        ('a: "\\ud800"', 'f.yaml.a: string has a lone surrogate'),
        (nested(5000), 'f.yaml: nested deeper than 64 levels'),
    ],
)
def test_yaml_is_held_to_the_same_rules(text, message):
    with pytest.raises(exception.InvalidJson) as info:
        jsonsafe.load_yaml(text, 'f.yaml')
    assert str(info.value).startswith(message)
