ALTER TABLE app_user ADD COLUMN email TEXT;
CREATE UNIQUE INDEX app_user_email_key ON app_user (email);
