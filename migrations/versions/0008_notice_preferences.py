"""Notice preferences: which kinds of notice each user also gets by email and by SMS

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-08 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # No rows: everyone keeps getting every kind by every channel the site has on, as before.
    op.create_table('notice_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email_kinds', sa.JSON(), nullable=False),
    sa.Column('sms_kinds', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notice_preference_user_id_app_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notice_preference'))
    )


def downgrade():
    op.drop_table('notice_preference')
