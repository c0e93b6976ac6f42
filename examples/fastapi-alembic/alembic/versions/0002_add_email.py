"""add email

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-09 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("email", sa.Text(), nullable=True))
    op.create_unique_constraint("app_user_email_key", "app_user", ["email"])


def downgrade() -> None:
    op.drop_constraint("app_user_email_key", "app_user", type_="unique")
    op.drop_column("app_user", "email")
