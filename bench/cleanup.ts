// (f) token lookups while the batched cleanup of expired access tokens runs, against the same lookups with none running.
/**
 * `n` tokens `kept-<i>` (after `seedAccessTokensSql`, whose tokens all expired in 2023, on its first session) that the cleanup must leave: a
 * third valid for a day, a third expired an hour ago (inside the retention), a third that never expires.
 */
export const seedKeptAccessTokensSql = (n: number) => `
  INSERT INTO oauth2_access_tokens (oauth2_access_token_id, oauth2_session_id, access_token, created_at, expires_at)
  SELECT (lpad(to_hex(1800000000000 + i), 12, '0') || substr(md5('kept' || i), 1, 20))::uuid,
         (SELECT oauth2_session_id FROM oauth2_sessions ORDER BY 1 LIMIT 1), 'kept-' || i, now() - interval '2 hours',
         CASE i % 3 WHEN 0 THEN now() + interval '1 day' WHEN 1 THEN now() - interval '1 hour' END
    FROM generate_series(1, ${n}) AS i`
