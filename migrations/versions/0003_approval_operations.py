"""Approval operations: sub-tasks (multi-approver steps, 加签, 委派), proxies, copies, notifications, attachments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:58:28.430830

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('proxy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('principal_id', sa.Integer(), nullable=False),
    sa.Column('proxy_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('process_ids', sa.JSON(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['principal_id'], ['app_user.id'], name=op.f('fk_proxy_principal_id_app_user')),
    sa.ForeignKeyConstraint(['proxy_id'], ['app_user.id'], name=op.f('fk_proxy_proxy_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy'))
    )
    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.create_index('ix_proxy_principal_window', ['principal_id', 'starts_at', 'ends_at'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_attachment_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_attachment_task_id_human_task')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['app_user.id'], name=op.f('fk_attachment_uploaded_by_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)

    op.create_table('carbon_copy',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sent_by_id', sa.Integer(), nullable=True),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_carbon_copy_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['sent_by_id'], ['app_user.id'], name=op.f('fk_carbon_copy_sent_by_id_app_user')),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_carbon_copy_task_id_human_task')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_carbon_copy_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carbon_copy'))
    )
    with op.batch_alter_table('carbon_copy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_carbon_copy_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_carbon_copy_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=True),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_notification_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['task_id'], ['human_task.id'], name=op.f('fk_notification_task_id_human_task')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_notification_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_user_read_created', ['user_id', 'read_at', 'created_at'], unique=False)

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='step'))
        batch_op.add_column(sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('waiting_for', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('multi', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('pending', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('fallback', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('added_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('on_behalf_of_id', sa.Integer(), nullable=True))
        # Sub-tasks (multi-approver members, signers, delegates) have no engine task of their own.
        batch_op.alter_column('spiff_task_id', existing_type=sa.String(length=36), nullable=True)
        batch_op.create_index(batch_op.f('ix_human_task_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_human_task_parent_id_human_task'), 'human_task', ['parent_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_human_task_added_by_id_app_user'), 'app_user', ['added_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_human_task_on_behalf_of_id_app_user'), 'app_user', ['on_behalf_of_id'], ['id'])

    with op.batch_alter_table('task_candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_task_candidate_on_behalf_of_id_app_user'), 'app_user', ['on_behalf_of_id'], ['id'])



def downgrade():
    with op.batch_alter_table('task_candidate', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_task_candidate_on_behalf_of_id_app_user'), type_='foreignkey')
        batch_op.drop_column('on_behalf_of_id')

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('spiff_task_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.drop_constraint(batch_op.f('fk_human_task_on_behalf_of_id_app_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_human_task_added_by_id_app_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_human_task_parent_id_human_task'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_human_task_parent_id'))
        batch_op.drop_column('on_behalf_of_id')
        batch_op.drop_column('added_by_id')
        batch_op.drop_column('fallback')
        batch_op.drop_column('note')
        batch_op.drop_column('pending')
        batch_op.drop_column('multi')
        batch_op.drop_column('waiting_for')
        batch_op.drop_column('seq')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('kind')

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_user_read_created')

    op.drop_table('notification')
    with op.batch_alter_table('carbon_copy', schema=None) as batch_op:
        batch_op.drop_index('ix_carbon_copy_user_read')
        batch_op.drop_index(batch_op.f('ix_carbon_copy_instance_id'))

    op.drop_table('carbon_copy')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index(batch_op.f('ix_attachment_instance_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('proxy', schema=None) as batch_op:
        batch_op.drop_index('ix_proxy_principal_window')

    op.drop_table('proxy')
