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

"""The house rules the code itself can check."""

import pathlib

import sodos

# A module longer than this holds more than one idea: split it where the
# ideas part (doc/source/contributor/architecture.rst).
MAX_MODULE_LINES = 400


def test_no_module_in_sodos_is_over_400_lines():
    root = pathlib.Path(sodos.__file__).parent
    long = {
        str(path.relative_to(root.parent)): lines
        for path in sorted(root.rglob('*.py'))
        if (lines := len(path.read_text(encoding='utf-8').splitlines()))
        > MAX_MODULE_LINES
    }
    assert long == {}, long
