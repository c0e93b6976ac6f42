"""backfill username, name optional

Release 1.5: the app reads and writes username only (app/models/user.py maps the attribute name to
the column username). Before it is released, this revision fills username in the rows written
before 0004 (every row written since has it, from the trigger), makes it NOT NULL, and lets name be
left out: the trigger still fills name for the app of 1.4, which serves until the rollout of 1.5
is over.

On a large table, backfill in batches (one revision per batch, or a loop in an autocommit block)
and add the NOT NULL as a CHECK (username IS NOT NULL) NOT VALID, validated in a revision of its
own, so that no statement holds the table's lock for a scan.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE app_user SET username = name WHERE username IS NULL")
    op.alter_column("app_user", "username", existing_type=sa.Text(), nullable=False)
    op.alter_column("app_user", "name", existing_type=sa.Text(), nullable=True)


def downgrade() -> None:
    op.alter_column("app_user", "name", existing_type=sa.Text(), nullable=False)
    op.alter_column("app_user", "username", existing_type=sa.Text(), nullable=True)
