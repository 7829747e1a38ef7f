"""Initial schema: every table of the store (see multiaccount.store.models).

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import multiaccount.store.types

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('account_snapshots',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('balance', sa.Float(), nullable=False),
    sa.Column('equity', sa.Float(), nullable=False),
    sa.Column('margin', sa.Float(), nullable=False),
    sa.Column('margin_free', sa.Float(), nullable=False),
    sa.Column('margin_level', sa.Float(), nullable=True),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('leverage', sa.Integer(), nullable=False),
    sa.Column('margin_so_call', sa.Float(), nullable=False),
    sa.Column('margin_so_so', sa.Float(), nullable=False),
    sa.Column('connected', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_snapshots'))
    )
    op.create_index('ix_account_snapshots_account_at', 'account_snapshots', ['account_id', 'at'], unique=False)
    op.create_index(op.f('ix_account_snapshots_at'), 'account_snapshots', ['at'], unique=False)
    op.create_table('alert_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('dedupe_key', sa.String(length=256), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=128), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('repeat_count', sa.Integer(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('thread_ts', sa.String(length=64), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_outbox'))
    )
    op.create_index('ix_alert_outbox_dedupe', 'alert_outbox', ['dedupe_key', 'created_at'], unique=False)
    op.create_index('ix_alert_outbox_due', 'alert_outbox', ['status', 'next_attempt_at'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index(op.f('ix_audit_log_at'), 'audit_log', ['at'], unique=False)
    op.create_table('backups',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('created_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('row_counts', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('verified_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_backups')),
    sa.UniqueConstraint('name', name=op.f('uq_backups_name'))
    )
    op.create_table('checklist_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('checklist', sa.String(length=64), nullable=False),
    sa.Column('run_id', sa.String(length=128), nullable=False),
    sa.Column('item', sa.String(length=256), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checklist_results'))
    )
    op.create_index('ix_checklist_results_run', 'checklist_results', ['checklist', 'run_id'], unique=False)
    op.create_table('deals',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('ticket', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('order_ticket', sa.BigInteger(), nullable=True),
    sa.Column('position_id', sa.BigInteger(), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=16), nullable=False),
    sa.Column('entry', sa.String(length=8), nullable=False),
    sa.Column('volume', sa.Float(), nullable=False),
    sa.Column('price', sa.Float(), nullable=False),
    sa.Column('profit', sa.Float(), nullable=False),
    sa.Column('commission', sa.Float(), nullable=False),
    sa.Column('swap', sa.Float(), nullable=False),
    sa.Column('fee', sa.Float(), nullable=False),
    sa.Column('magic', sa.BigInteger(), nullable=False),
    sa.Column('comment', sa.String(length=64), nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('account_id', 'ticket', name=op.f('pk_deals'))
    )
    op.create_index('ix_deals_account_at', 'deals', ['account_id', 'at'], unique=False)
    op.create_table('heartbeats',
    sa.Column('component', sa.String(length=64), nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('beats', sa.BigInteger(), nullable=False),
    sa.Column('info', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('component', name=op.f('pk_heartbeats'))
    )
    op.create_table('incidents',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('key', sa.String(length=128), nullable=True),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=False),
    sa.Column('closed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=64), nullable=True),
    sa.Column('resolution', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
    sa.UniqueConstraint('key', name=op.f('uq_incidents_key'))
    )
    op.create_index(op.f('ix_incidents_status'), 'incidents', ['status'], unique=False)
    op.create_table('kv',
    sa.Column('key', sa.String(length=191), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_kv'))
    )
    op.create_table('orders',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('signal_id', sa.String(length=64), nullable=True),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('order_type', sa.String(length=16), nullable=False),
    sa.Column('volume', multiaccount.store.types.ExactDecimal(28, 8), nullable=False),
    sa.Column('price', multiaccount.store.types.ExactDecimal(28, 8), nullable=True),
    sa.Column('sl', multiaccount.store.types.ExactDecimal(28, 8), nullable=True),
    sa.Column('tp', multiaccount.store.types.ExactDecimal(28, 8), nullable=True),
    sa.Column('deviation', sa.Integer(), nullable=False),
    sa.Column('position_ticket', sa.BigInteger(), nullable=True),
    sa.Column('reduce_only', sa.Boolean(), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('retcode', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('filled_volume', multiaccount.store.types.ExactDecimal(28, 8), nullable=True),
    sa.Column('fill_price', multiaccount.store.types.ExactDecimal(28, 8), nullable=True),
    sa.Column('ticket', sa.BigInteger(), nullable=True),
    sa.Column('deal', sa.BigInteger(), nullable=True),
    sa.Column('latency_ms', sa.Float(), nullable=True),
    sa.Column('reserved_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('completed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('client_id', name=op.f('uq_orders_client_id'))
    )
    op.create_index('ix_orders_account_reserved', 'orders', ['account_id', 'reserved_at'], unique=False)
    op.create_index(op.f('ix_orders_signal_id'), 'orders', ['signal_id'], unique=False)
    op.create_index(op.f('ix_orders_status'), 'orders', ['status'], unique=False)
    op.create_table('performance_daily',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('start_equity', sa.Float(), nullable=True),
    sa.Column('end_equity', sa.Float(), nullable=True),
    sa.Column('pnl', sa.Float(), nullable=False),
    sa.Column('return_pct', sa.Float(), nullable=True),
    sa.Column('drawdown', sa.Float(), nullable=True),
    sa.Column('trades', sa.Integer(), nullable=False),
    sa.Column('wins', sa.Integer(), nullable=False),
    sa.Column('volume', sa.Float(), nullable=False),
    sa.Column('commission', sa.Float(), nullable=False),
    sa.Column('swap', sa.Float(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_daily')),
    sa.UniqueConstraint('day', 'scope', name=op.f('uq_performance_daily_day_scope'))
    )
    op.create_table('performance_monthly',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('start_equity', sa.Float(), nullable=True),
    sa.Column('end_equity', sa.Float(), nullable=True),
    sa.Column('pnl', sa.Float(), nullable=False),
    sa.Column('return_pct', sa.Float(), nullable=True),
    sa.Column('max_drawdown', sa.Float(), nullable=True),
    sa.Column('sharpe', sa.Float(), nullable=True),
    sa.Column('sortino', sa.Float(), nullable=True),
    sa.Column('trades', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_performance_monthly')),
    sa.UniqueConstraint('month', 'scope', name=op.f('uq_performance_monthly_month_scope'))
    )
    op.create_table('positions',
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('ticket', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('volume', sa.Float(), nullable=False),
    sa.Column('price_open', sa.Float(), nullable=False),
    sa.Column('sl', sa.Float(), nullable=True),
    sa.Column('tp', sa.Float(), nullable=True),
    sa.Column('price_current', sa.Float(), nullable=False),
    sa.Column('profit', sa.Float(), nullable=False),
    sa.Column('swap', sa.Float(), nullable=False),
    sa.Column('opened_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('magic', sa.BigInteger(), nullable=False),
    sa.Column('comment', sa.String(length=64), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('updated_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('account_id', 'ticket', name=op.f('pk_positions'))
    )
    op.create_index('ix_positions_open', 'positions', ['is_open', 'account_id'], unique=False)
    op.create_table('rebalancing_plans',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('plan_key', sa.String(length=128), nullable=False),
    sa.Column('created_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rebalancing_plans')),
    sa.UniqueConstraint('plan_key', name=op.f('uq_rebalancing_plans_plan_key'))
    )
    op.create_table('reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('created_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('meta', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    sa.UniqueConstraint('kind', 'period', 'format', name=op.f('uq_reports_kind_period_format'))
    )
    op.create_table('risk_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_events'))
    )
    op.create_table('signals',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('symbol', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=8), nullable=False),
    sa.Column('order_type', sa.String(length=16), nullable=False),
    sa.Column('entry', sa.Float(), nullable=True),
    sa.Column('stop', sa.Float(), nullable=False),
    sa.Column('take_profit', sa.Float(), nullable=True),
    sa.Column('take_profit_ratio', sa.Float(), nullable=True),
    sa.Column('strategy', sa.String(length=64), nullable=False),
    sa.Column('created', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signals'))
    )
    op.create_index(op.f('ix_signals_received_at'), 'signals', ['received_at'], unique=False)
    op.create_table('trading_state_changes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('previous_state', sa.String(length=16), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('changed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trading_state_changes')),
    sa.UniqueConstraint('scope', 'version', name=op.f('uq_trading_state_changes_scope_version'))
    )
    op.create_index(op.f('ix_trading_state_changes_changed_at'), 'trading_state_changes', ['changed_at'], unique=False)
    op.create_table('trading_states',
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('changed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope', name=op.f('pk_trading_states'))
    )
    op.create_table('incident_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_entries_incident_id_incidents'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_entries'))
    )
    op.create_index(op.f('ix_incident_entries_incident_id'), 'incident_entries', ['incident_id'], unique=False)
    op.create_table('risk_violations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('scope', sa.String(length=96), nullable=False),
    sa.Column('limit_name', sa.String(length=64), nullable=False),
    sa.Column('measured', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=True),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('incident_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_risk_violations_incident_id_incidents'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_risk_violations'))
    )
    op.create_index(op.f('ix_risk_violations_at'), 'risk_violations', ['at'], unique=False)
    op.create_table('signal_routes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('signal_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=True),
    sa.Column('volume', sa.Float(), nullable=True),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['signal_id'], ['signals.id'], name=op.f('fk_signal_routes_signal_id_signals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signal_routes')),
    sa.UniqueConstraint('signal_id', 'account_id', name=op.f('uq_signal_routes_signal_id_account_id'))
    )
    op.create_table('transfers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('plan_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('from_account', sa.String(length=64), nullable=False),
    sa.Column('to_account', sa.String(length=64), nullable=False),
    sa.Column('amount', multiaccount.store.types.ExactDecimal(20, 2), nullable=False),
    sa.Column('currency', sa.String(length=8), nullable=False),
    sa.Column('live', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('confirmed_by', sa.String(length=64), nullable=True),
    sa.Column('confirmed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('executed_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', multiaccount.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['plan_id'], ['rebalancing_plans.id'], name=op.f('fk_transfers_plan_id_rebalancing_plans'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transfers'))
    )
    op.create_index(op.f('ix_transfers_plan_id'), 'transfers', ['plan_id'], unique=False)
    op.create_index(op.f('ix_transfers_status'), 'transfers', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_transfers_status'), table_name='transfers')
    op.drop_index(op.f('ix_transfers_plan_id'), table_name='transfers')
    op.drop_table('transfers')
    op.drop_table('signal_routes')
    op.drop_index(op.f('ix_risk_violations_at'), table_name='risk_violations')
    op.drop_table('risk_violations')
    op.drop_index(op.f('ix_incident_entries_incident_id'), table_name='incident_entries')
    op.drop_table('incident_entries')
    op.drop_table('trading_states')
    op.drop_index(op.f('ix_trading_state_changes_changed_at'), table_name='trading_state_changes')
    op.drop_table('trading_state_changes')
    op.drop_index(op.f('ix_signals_received_at'), table_name='signals')
    op.drop_table('signals')
    op.drop_table('risk_events')
    op.drop_table('reports')
    op.drop_table('rebalancing_plans')
    op.drop_index('ix_positions_open', table_name='positions')
    op.drop_table('positions')
    op.drop_table('performance_monthly')
    op.drop_table('performance_daily')
    op.drop_index(op.f('ix_orders_status'), table_name='orders')
    op.drop_index(op.f('ix_orders_signal_id'), table_name='orders')
    op.drop_index('ix_orders_account_reserved', table_name='orders')
    op.drop_table('orders')
    op.drop_table('kv')
    op.drop_index(op.f('ix_incidents_status'), table_name='incidents')
    op.drop_table('incidents')
    op.drop_table('heartbeats')
    op.drop_index('ix_deals_account_at', table_name='deals')
    op.drop_table('deals')
    op.drop_index('ix_checklist_results_run', table_name='checklist_results')
    op.drop_table('checklist_results')
    op.drop_table('backups')
    op.drop_index(op.f('ix_audit_log_at'), table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_alert_outbox_due', table_name='alert_outbox')
    op.drop_index('ix_alert_outbox_dedupe', table_name='alert_outbox')
    op.drop_table('alert_outbox')
    op.drop_index(op.f('ix_account_snapshots_at'), table_name='account_snapshots')
    op.drop_index('ix_account_snapshots_account_at', table_name='account_snapshots')
    op.drop_table('account_snapshots')
