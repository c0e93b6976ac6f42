"""add display_name

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-16 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("app_user", sa.Column("display_name", sa.Text(), nullable=True))
    op.execute("UPDATE app_user SET display_name = name WHERE display_name IS NULL")
    op.alter_column("app_user", "display_name", nullable=False)


def downgrade() -> None:
    op.drop_column("app_user", "display_name")
