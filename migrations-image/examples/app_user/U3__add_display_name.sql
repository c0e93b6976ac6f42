ALTER TABLE app_user DROP COLUMN display_name;
