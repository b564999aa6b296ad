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

"""The history store: executed actions, closed alerts, monitoring.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

# A revision keeps its own copy of the types it uses: the models may
# change later, this revision may not.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), 'mysql')


def upgrade() -> None:
    op.create_table(
        'executed_actions',
        sa.Column('action_id', sa.String(36), nullable=False),
        sa.Column('site', sa.String(64), nullable=False),
        sa.Column('kind', sa.String(64), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('state', sa.String(16), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('created_at', TIMESTAMP, nullable=False),
        sa.Column('ended_at', TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint('action_id', name='pk_executed_actions'),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )
    op.create_index(
        'ix_executed_actions_created_at', 'executed_actions', ['created_at']
    )
    op.create_index(
        'ix_executed_actions_site_created_at',
        'executed_actions',
        ['site', 'created_at'],
    )
    op.create_table(
        'closed_alerts',
        sa.Column('alert_id', sa.String(36), nullable=False),
        sa.Column('site', sa.String(64), nullable=False),
        sa.Column('kind', sa.String(64), nullable=False),
        sa.Column('severity', sa.String(16), nullable=False),
        sa.Column('message', sa.String(1024), nullable=False),
        sa.Column('raised_at', TIMESTAMP, nullable=False),
        sa.Column('closed_at', TIMESTAMP, nullable=False),
        sa.Column('reason', sa.String(1024), nullable=True),
        sa.PrimaryKeyConstraint('alert_id', name='pk_closed_alerts'),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )
    op.create_index(
        'ix_closed_alerts_closed_at', 'closed_alerts', ['closed_at']
    )
    op.create_index(
        'ix_closed_alerts_site_closed_at',
        'closed_alerts',
        ['site', 'closed_at'],
    )
    op.create_table(
        'monitoring_history',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('site', sa.String(64), nullable=False),
        sa.Column('collected_at', TIMESTAMP, nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name='pk_monitoring_history'),
        mysql_engine='InnoDB',
        mysql_charset='utf8mb4',
    )
    op.create_index(
        'ix_monitoring_history_site_collected_at',
        'monitoring_history',
        ['site', 'collected_at'],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table('monitoring_history')
    op.drop_table('closed_alerts')
    op.drop_table('executed_actions')
