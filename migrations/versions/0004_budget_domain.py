"""Budget domain: reference codes, projects, budget lines, indicators, the indicator ledger, fund plans,
adjustments, payments and bank batches, vouchers, township settings and control results.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 14:38:41.315881

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('bank_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('bank', sa.String(length=32), nullable=False),
    sa.Column('file_name', sa.String(length=100), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_batch')),
    sa.UniqueConstraint('number', name=op.f('uq_bank_batch_number'))
    )
    op.create_table('gl_account',
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('category', sa.String(length=24), nullable=False),
    sa.Column('normal_balance', sa.String(length=8), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_gl_account'))
    )
    op.create_table('ref_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('parent_code', sa.String(length=32), nullable=True),
    sa.Column('gov_code', sa.String(length=32), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ref_code')),
    sa.UniqueConstraint('kind', 'code', name=op.f('uq_ref_code_kind_code'))
    )
    op.create_table('township_settings',
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['township_id'], ['org.id'], name=op.f('fk_township_settings_township_id_org')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['app_user.id'], name=op.f('fk_township_settings_updated_by_id_app_user')),
    sa.PrimaryKeyConstraint('township_id', name=op.f('pk_township_settings'))
    )
    op.create_table('control_result',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('check_key', sa.String(length=80), nullable=False),
    sa.Column('rule', sa.String(length=8), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_control_result_instance_id_process_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_control_result')),
    sa.UniqueConstraint('instance_id', 'check_key', 'rule', name=op.f('uq_control_result_instance_id_check_key_rule'))
    )
    with op.batch_alter_table('control_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_control_result_instance_id'), ['instance_id'], unique=False)

    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('category_code', sa.String(length=32), nullable=False),
    sa.Column('start_year', sa.Integer(), nullable=False),
    sa.Column('end_year', sa.Integer(), nullable=False),
    sa.Column('total_amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('goals', sa.JSON(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_project_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_project_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_project_org_id_org')),
    sa.ForeignKeyConstraint(['township_id'], ['org.id'], name=op.f('fk_project_township_id_org')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('code', name=op.f('uq_project_code'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index('ix_project_org_status', ['org_id', 'status'], unique=False)

    op.create_table('indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('func_code', sa.String(length=32), nullable=False),
    sa.Column('econ_dept_code', sa.String(length=32), nullable=False),
    sa.Column('econ_gov_code', sa.String(length=32), nullable=False),
    sa.Column('fund_nature_code', sa.String(length=32), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('doc_no', sa.String(length=100), nullable=True),
    sa.Column('amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('earmarked', sa.Boolean(), nullable=False),
    sa.Column('plan_controlled', sa.Boolean(), nullable=False),
    sa.Column('three_guarantees', sa.Boolean(), nullable=False),
    sa.Column('carried_from_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['carried_from_id'], ['indicator.id'], name=op.f('fk_indicator_carried_from_id_indicator')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_indicator_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_indicator_org_id_org')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_indicator_project_id_project')),
    sa.ForeignKeyConstraint(['township_id'], ['org.id'], name=op.f('fk_indicator_township_id_org')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator')),
    sa.UniqueConstraint('code', name=op.f('uq_indicator_code'))
    )
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_org_year', ['org_id', 'fiscal_year'], unique=False)
        batch_op.create_index('ix_indicator_township_year', ['township_id', 'fiscal_year'], unique=False)

    op.create_table('budget_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('func_code', sa.String(length=32), nullable=False),
    sa.Column('econ_dept_code', sa.String(length=32), nullable=False),
    sa.Column('econ_gov_code', sa.String(length=32), nullable=False),
    sa.Column('fund_nature_code', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('earmarked', sa.Boolean(), nullable=False),
    sa.Column('plan_controlled', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_budget_line_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_budget_line_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_budget_line_org_id_org')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_budget_line_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_line'))
    )
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_line_instance_id'), ['instance_id'], unique=False)

    op.create_table('fund_plan_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('applied_amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('approved_amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_fund_plan_line_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_fund_plan_line_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_fund_plan_line_org_id_org')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fund_plan_line'))
    )
    with op.batch_alter_table('fund_plan_line', schema=None) as batch_op:
        batch_op.create_index('ix_fund_plan_line_indicator_month', ['indicator_id', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_fund_plan_line_instance_id'), ['instance_id'], unique=False)

    op.create_table('ledger_account',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('month', sa.Date(), nullable=True),
    sa.Column('balance', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.CheckConstraint("kind IN ('source', 'plan_source') OR balance >= 0", name=op.f('ck_ledger_account_balance_not_negative')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_ledger_account_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['township_id'], ['org.id'], name=op.f('fk_ledger_account_township_id_org')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_account'))
    )
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.create_index('uq_ledger_account_indicator', ['indicator_id', 'kind'], unique=True, postgresql_where=sa.text('indicator_id IS NOT NULL AND month IS NULL'), sqlite_where=sa.text('indicator_id IS NOT NULL AND month IS NULL'))
        batch_op.create_index('uq_ledger_account_plan', ['indicator_id', 'kind', 'month'], unique=True, postgresql_where=sa.text('month IS NOT NULL'), sqlite_where=sa.text('month IS NOT NULL'))
        batch_op.create_index('uq_ledger_account_pool', ['township_id', 'fiscal_year', 'kind'], unique=True, postgresql_where=sa.text('indicator_id IS NULL'), sqlite_where=sa.text('indicator_id IS NULL'))

    op.create_table('payment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('township_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('purpose_key', sa.String(length=100), nullable=False),
    sa.Column('func_code', sa.String(length=32), nullable=False),
    sa.Column('econ_dept_code', sa.String(length=32), nullable=False),
    sa.Column('payee_name', sa.String(length=200), nullable=False),
    sa.Column('payee_account', sa.String(length=64), nullable=False),
    sa.Column('payee_bank', sa.String(length=200), nullable=False),
    sa.Column('payee_is_person', sa.Boolean(), nullable=False),
    sa.Column('contract_no', sa.String(length=64), nullable=True),
    sa.Column('settle_mode', sa.String(length=16), nullable=False),
    sa.Column('expense_nature', sa.String(length=16), nullable=False),
    sa.Column('tier', sa.String(length=4), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('bank_ref', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('return_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['bank_batch.id'], name=op.f('fk_payment_batch_id_bank_batch')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_payment_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_payment_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_payment_org_id_org')),
    sa.ForeignKeyConstraint(['township_id'], ['org.id'], name=op.f('fk_payment_township_id_org')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment')),
    sa.UniqueConstraint('bank_ref', name=op.f('uq_payment_bank_ref')),
    sa.UniqueConstraint('instance_id', name=op.f('uq_payment_instance_id'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_contract', ['contract_no'], unique=False)
        batch_op.create_index('ix_payment_indicator_status', ['indicator_id', 'status'], unique=False)
        batch_op.create_index('ix_payment_purpose', ['org_id', 'purpose_key'], unique=False)

    op.create_table('adjustment_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_indicator_id', sa.Integer(), nullable=True),
    sa.Column('to_indicator_id', sa.Integer(), nullable=True),
    sa.Column('budget_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['budget_line_id'], ['budget_line.id'], name=op.f('fk_adjustment_line_budget_line_id_budget_line')),
    sa.ForeignKeyConstraint(['from_indicator_id'], ['indicator.id'], name=op.f('fk_adjustment_line_from_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_adjustment_line_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['to_indicator_id'], ['indicator.id'], name=op.f('fk_adjustment_line_to_indicator_id_indicator')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adjustment_line'))
    )
    with op.batch_alter_table('adjustment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adjustment_line_instance_id'), ['instance_id'], unique=False)

    op.create_table('ledger_transfer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('debit_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credit_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('amount', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('instance_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('memo', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount > 0', name=op.f('ck_ledger_transfer_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_ledger_transfer_created_by_id_app_user')),
    sa.ForeignKeyConstraint(['credit_account_id'], ['ledger_account.id'], name=op.f('fk_ledger_transfer_credit_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['debit_account_id'], ['ledger_account.id'], name=op.f('fk_ledger_transfer_debit_account_id_ledger_account')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], name=op.f('fk_ledger_transfer_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_ledger_transfer_payment_id_payment')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_transfer')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_ledger_transfer_idempotency_key'))
    )
    with op.batch_alter_table('ledger_transfer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_transfer_credit_account_id'), ['credit_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transfer_debit_account_id'), ['debit_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transfer_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_transfer_payment_id'), ['payment_id'], unique=False)

    op.create_table('voucher',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('fiscal_year', sa.Integer(), nullable=False),
    sa.Column('voucher_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('reverses_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_voucher_org_id_org')),
    sa.ForeignKeyConstraint(['payment_id'], ['payment.id'], name=op.f('fk_voucher_payment_id_payment')),
    sa.ForeignKeyConstraint(['reverses_id'], ['voucher.id'], name=op.f('fk_voucher_reverses_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher')),
    sa.UniqueConstraint('number', name=op.f('uq_voucher_number'))
    )
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_org_id'), ['org_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_voucher_payment_id'), ['payment_id'], unique=False)

    op.create_table('voucher_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('voucher_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('account_code', sa.String(length=16), nullable=False),
    sa.Column('debit', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('credit', sa.Numeric(18, 2).with_variant(sa.BigInteger(), "sqlite"), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('func_code', sa.String(length=32), nullable=True),
    sa.Column('econ_code', sa.String(length=32), nullable=True),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('fund_nature_code', sa.String(length=32), nullable=True),
    sa.Column('indicator_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('debit = 0 OR credit = 0', name=op.f('ck_voucher_line_one_side')),
    sa.ForeignKeyConstraint(['account_code'], ['gl_account.code'], name=op.f('fk_voucher_line_account_code_gl_account')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_voucher_line_indicator_id_indicator')),
    sa.ForeignKeyConstraint(['org_id'], ['org.id'], name=op.f('fk_voucher_line_org_id_org')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_voucher_line_project_id_project')),
    sa.ForeignKeyConstraint(['voucher_id'], ['voucher.id'], name=op.f('fk_voucher_line_voucher_id_voucher')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_voucher_line'))
    )
    with op.batch_alter_table('voucher_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_line_voucher_id'), ['voucher_id'], unique=False)

    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unit_type', sa.String(length=16), nullable=True))



def downgrade():
    with op.batch_alter_table('org', schema=None) as batch_op:
        batch_op.drop_column('unit_type')

    with op.batch_alter_table('voucher_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_line_voucher_id'))

    op.drop_table('voucher_line')
    with op.batch_alter_table('voucher', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_payment_id'))
        batch_op.drop_index(batch_op.f('ix_voucher_org_id'))

    op.drop_table('voucher')
    with op.batch_alter_table('ledger_transfer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_transfer_payment_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_transfer_instance_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_transfer_debit_account_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_transfer_credit_account_id'))

    op.drop_table('ledger_transfer')
    with op.batch_alter_table('adjustment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adjustment_line_instance_id'))

    op.drop_table('adjustment_line')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_purpose')
        batch_op.drop_index('ix_payment_indicator_status')
        batch_op.drop_index('ix_payment_contract')

    op.drop_table('payment')
    with op.batch_alter_table('ledger_account', schema=None) as batch_op:
        batch_op.drop_index('uq_ledger_account_pool', postgresql_where=sa.text('indicator_id IS NULL'), sqlite_where=sa.text('indicator_id IS NULL'))
        batch_op.drop_index('uq_ledger_account_plan', postgresql_where=sa.text('month IS NOT NULL'), sqlite_where=sa.text('month IS NOT NULL'))
        batch_op.drop_index('uq_ledger_account_indicator', postgresql_where=sa.text('indicator_id IS NOT NULL AND month IS NULL'), sqlite_where=sa.text('indicator_id IS NOT NULL AND month IS NULL'))

    op.drop_table('ledger_account')
    with op.batch_alter_table('fund_plan_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fund_plan_line_instance_id'))
        batch_op.drop_index('ix_fund_plan_line_indicator_month')

    op.drop_table('fund_plan_line')
    with op.batch_alter_table('budget_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_line_instance_id'))

    op.drop_table('budget_line')
    with op.batch_alter_table('indicator', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_township_year')
        batch_op.drop_index('ix_indicator_org_year')

    op.drop_table('indicator')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index('ix_project_org_status')

    op.drop_table('project')
    with op.batch_alter_table('control_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_control_result_instance_id'))

    op.drop_table('control_result')
    op.drop_table('township_settings')
    op.drop_table('ref_code')
    op.drop_table('gl_account')
    op.drop_table('bank_batch')
