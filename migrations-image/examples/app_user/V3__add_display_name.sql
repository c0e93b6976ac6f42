ALTER TABLE app_user ADD COLUMN display_name TEXT;
UPDATE app_user SET display_name = name WHERE display_name IS NULL;
