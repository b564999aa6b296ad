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

"""Accounting: usage per hour, site, owner and project.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# This revision's own copy of the types it uses (see 0001).
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade() -> None:
    op.create_table(
        'usage',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('period_start', TIMESTAMP, nullable=False),
        sa.Column('site', sa.String(64), nullable=False),
        sa.Column('owner', sa.String(64), nullable=False),
        sa.Column('project', sa.String(64), nullable=False),
        sa.Column('vcpu_hours', sa.Double(), nullable=False),
        sa.Column('ram_gb_hours', sa.Double(), nullable=False),
        sa.Column('member_hours', sa.Double(), nullable=False),
        sa.Column('updated_at', TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_usage'),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )
    op.create_index(
        'ix_usage_period_start_site_owner_project',
        'usage',
        ['period_start', 'site', 'owner', 'project'],
        unique=True,
    )
    op.create_index(
        'ix_usage_owner_period_start', 'usage', ['owner', 'period_start']
    )
    op.create_index(
        'ix_usage_project_period_start', 'usage', ['project', 'period_start']
    )


def downgrade() -> None:
    op.drop_table('usage')
