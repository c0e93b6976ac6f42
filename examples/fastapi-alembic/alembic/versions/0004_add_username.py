"""add username, kept in step with name

Release 1.4, the first of three that rename app_user.name to username without a moment of
downtime (expand, switch, contract). This one only adds: the app of 1.3 and 1.4 reads and writes
name as before, and a trigger copies every write of one column into the other, so that each row
has both, whichever app version wrote it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 10:00:00

"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# An insert fills the column its writer left out from the other; an update copies the column that
# changed. Both app versions may write while a rollout runs, so both columns stay right until 0006
# drops name (and this trigger with it).
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
    # nullable and without a default: a catalog change only, no rewrite of the table
    op.add_column("app_user", sa.Column("username", sa.Text(), nullable=True))
    op.execute(SYNC_FUNCTION)
    op.execute(
        "CREATE TRIGGER app_user_name_sync BEFORE INSERT OR UPDATE ON app_user"
        " FOR EACH ROW EXECUTE FUNCTION app_user_name_sync()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER app_user_name_sync ON app_user")
    op.execute("DROP FUNCTION app_user_name_sync()")
    op.drop_column("app_user", "username")
