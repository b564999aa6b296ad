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

"""The chaos run's options: what a fault's hold may be."""

import pytest

from tests.chaos import run


def test_a_fault_is_held_between_the_two_given_times():
    args = run.parser().parse_args(['--hold', '1,3.5'])
    assert args.hold == (1.0, 3.5)
    assert run.parser().parse_args([]).hold == (2.0, 6.0)


@pytest.mark.parametrize('text', ['3', '3,1', '0,2', 'a,b', '1,inf', '1,2,3'])
def test_a_hold_that_cannot_be_is_refused_by_name(text, capsys):
    with pytest.raises(SystemExit) as exc:
        run.parser().parse_args(['--hold', text])
    assert exc.value.code == 2
    assert '--hold' in capsys.readouterr().err
