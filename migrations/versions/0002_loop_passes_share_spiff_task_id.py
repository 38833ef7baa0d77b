"""Loop passes share the engine task id: spiff_task_id is unique among READY rows only.

The engine rewinds a looping user task to its first pass (app/engine/runner.py), so the completed
rows of earlier passes keep the same engine task id as the new READY one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 13:47:00.487461

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_human_task_spiff_task_id'), type_='unique')
        batch_op.create_index(batch_op.f('ix_human_task_spiff_task_id'), ['spiff_task_id'], unique=False)
        batch_op.create_index('uq_human_task_ready_spiff_task_id', ['spiff_task_id'], unique=True, postgresql_where=sa.text("state = 'ready'"), sqlite_where=sa.text("state = 'ready'"))



def downgrade():
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('uq_human_task_ready_spiff_task_id', postgresql_where=sa.text("state = 'ready'"), sqlite_where=sa.text("state = 'ready'"))
        batch_op.drop_index(batch_op.f('ix_human_task_spiff_task_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_human_task_spiff_task_id'), ['spiff_task_id'])

