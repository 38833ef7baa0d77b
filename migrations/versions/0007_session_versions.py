"""Sessions that logout ends: a session version per user and per API token; an admin's login unlock

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Existing rows start at version 0: tokens issued before the upgrade stay valid until they expire.
    # Cookie sessions signed before it carry no version and end (everyone logs in once more).
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('login_reset_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('session_version')

    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('login_reset_at')
        batch_op.drop_column('session_version')
