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

"""Sphinx configuration of the sodos documentation (tox -e docs).

The configuration reference and the sample file are generated from the
options sodos registers (the ``oslo.config.opts`` entry points), so they
need sodos installed: the docs environment is a development install.
"""

project = 'sodos'
copyright = 'sodos developers'

extensions = [
    # .. show-options:: the option reference (configuration.rst).
    'oslo_config.sphinxext',
    # Writes _static/sodos.conf.sample at the start of every build
    # (sample-config.rst), from the generator's own input file.
    'oslo_config.sphinxconfiggen',
    # .. show-policy:: and _static/sodos.policy.yaml.sample, from the
    # sodos namespace of oslo.policy.policies (policy.rst).
    'oslo_policy.sphinxext',
    'oslo_policy.sphinxpolicygen',
    # .. autoprogram-cliff:: the openstack sodos commands (cli.rst).
    'cliff.sphinxext',
]

config_generator_config_file = '../../etc/sodos/sodos-config-generator.conf'
sample_config_basename = '_static/sodos'
policy_generator_config_file = '../../etc/sodos/sodos-policy-generator.conf'
sample_policy_basename = '_static/sodos'

exclude_patterns = []
# The theme Sphinx ships: nothing to fetch, no branding implied.
html_theme = 'alabaster'
html_theme_options = {'description': 'Self-Organized Distributed OpenStack'}
