-- Validates the foreign key the previous migration added NOT VALID (a scan that does not block writes).
ALTER TABLE oauth2_device_code_grant
    VALIDATE CONSTRAINT oauth2_device_code_grant_user_session_id_fkey;
