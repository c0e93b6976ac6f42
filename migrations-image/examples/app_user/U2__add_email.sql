DROP INDEX app_user_email_key;
ALTER TABLE app_user DROP COLUMN email;
