-- no-transaction
-- Compat sessions of a user, and of a user's device.
CREATE INDEX CONCURRENTLY IF NOT EXISTS compat_sessions_user_id_device_id_idx
    ON compat_sessions (user_id, device_id);
