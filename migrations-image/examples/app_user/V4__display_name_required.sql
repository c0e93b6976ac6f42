UPDATE app_user SET display_name = name WHERE display_name IS NULL;
ALTER TABLE app_user ALTER COLUMN display_name SET NOT NULL;
