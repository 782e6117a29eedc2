-- Policy family: versions of the authorization-policy data.

-- Every set() inserts a row; the newest (greatest id) is the current data.
CREATE TABLE policy_data (
    policy_data_id UUID NOT NULL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL,
    data JSONB NOT NULL
);
