-- As in MAS, a device-code grant's browser session is a plain reference: deleting a browser session that a grant
-- still names is refused rather than deleting the grant with it (the foreign key no longer cascades).
-- Added NOT VALID, so the table is not scanned under the lock; the next migration validates it.
ALTER TABLE oauth2_device_code_grant
    DROP CONSTRAINT oauth2_device_code_grant_user_session_id_fkey,
    ADD CONSTRAINT oauth2_device_code_grant_user_session_id_fkey
        FOREIGN KEY (user_session_id)
        REFERENCES user_sessions (user_session_id)
        NOT VALID;
