"""drop name

Release 1.6, the contract: the app reads and writes username since 1.5, so nothing uses name any
more. schemagate runs this revision only once every replica of the app of this release runs
(schemagate_kind = "contract"); shipped in one release with 0004 and 0005, it still waits for the
rollout of the app that uses username.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None
schemagate_kind = "contract"  # the app reads and writes username since release 1.5

# 0004's trigger, put back by the downgrade
SYNC_FUNCTION = """
CREATE FUNCTION app_user_name_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.username := coalesce(NEW.username, NEW.name);
        NEW.name := coalesce(NEW.name, NEW.username);
    ELSIF NEW.name IS DISTINCT FROM OLD.name THEN
        NEW.username := NEW.name;
    ELSIF NEW.username IS DISTINCT FROM OLD.username THEN
        NEW.name := NEW.username;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute("DROP TRIGGER app_user_name_sync ON app_user")
    op.execute("DROP FUNCTION app_user_name_sync()")
    op.drop_column("app_user", "name")


def downgrade() -> None:
    op.add_column("app_user", sa.Column("name", sa.Text(), nullable=True))
    op.execute("UPDATE app_user SET name = username")
    op.execute(SYNC_FUNCTION)
    op.execute(
        "CREATE TRIGGER app_user_name_sync BEFORE INSERT OR UPDATE ON app_user"
        " FOR EACH ROW EXECUTE FUNCTION app_user_name_sync()"
    )
