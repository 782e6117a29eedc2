// The in-memory backend's copy of the schema's keys and constraints (test/memory-schema checks it against PostgreSQL's catalog).
import type { TableSpec } from "./Database.js"

const notRevoked = (row: { readonly [k: string]: unknown }) => row.revoked_at === null

export const tables: ReadonlyArray<TableSpec> = [
  {
    name: "users",
    primaryKey: ["user_id"],
    foreignKeys: [],
    unique: [{ name: "users_username_unique", columns: ["username"] }]
  },
  {
    name: "user_unsupported_third_party_ids",
    primaryKey: ["user_id", "medium", "address"],
    foreignKeys: [
      {
        name: "user_unsupported_third_party_ids_user_id_fkey",
        columns: ["user_id"],
        references: "users",
        onDelete: "cascade"
      }
    ],
    unique: []
  },
  {
    name: "user_emails",
    primaryKey: ["user_email_id"],
    foreignKeys: [
      { name: "user_emails_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" }
    ],
    unique: []
  },
  {
    name: "user_passwords",
    primaryKey: ["user_password_id"],
    foreignKeys: [
      { name: "user_passwords_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" },
      {
        name: "user_passwords_upgraded_from_id_fkey",
        columns: ["upgraded_from_id"],
        references: "user_passwords",
        onDelete: "restrict"
      }
    ],
    unique: []
  },
  {
    name: "user_sessions",
    primaryKey: ["user_session_id"],
    foreignKeys: [
      { name: "user_sessions_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" }
    ],
    unique: []
  },
  {
    name: "user_session_authentications",
    primaryKey: ["user_session_authentication_id"],
    foreignKeys: [
      {
        name: "user_session_authentications_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "cascade"
      },
      {
        name: "user_session_authentications_user_password_id_fkey",
        columns: ["user_password_id"],
        references: "user_passwords",
        onDelete: "set null"
      },
      {
        name: "user_session_authentications_upstream_session_fkey",
        columns: ["upstream_oauth_authorization_session_id"],
        references: "upstream_oauth_authorization_sessions",
        onDelete: "set null"
      }
    ],
    unique: []
  },
  {
    name: "user_recovery_sessions",
    primaryKey: ["user_recovery_session_id"],
    foreignKeys: [],
    unique: []
  },
  {
    name: "user_recovery_tickets",
    primaryKey: ["user_recovery_ticket_id"],
    foreignKeys: [
      {
        name: "user_recovery_tickets_user_recovery_session_id_fkey",
        columns: ["user_recovery_session_id"],
        references: "user_recovery_sessions",
        onDelete: "cascade"
      },
      {
        name: "user_recovery_tickets_user_email_id_fkey",
        columns: ["user_email_id"],
        references: "user_emails",
        onDelete: "cascade"
      }
    ],
    unique: []
  },
  {
    name: "user_registration_tokens",
    primaryKey: ["user_registration_token_id"],
    foreignKeys: [],
    unique: [{ name: "user_registration_tokens_token_unique", columns: ["token"] }]
  },
  {
    name: "user_registrations",
    primaryKey: ["user_registration_id"],
    foreignKeys: [
      {
        name: "user_registrations_user_registration_token_id_fkey",
        columns: ["user_registration_token_id"],
        references: "user_registration_tokens",
        onDelete: "set null"
      },
      {
        name: "user_registrations_email_authentication_id_fkey",
        columns: ["email_authentication_id"],
        references: "user_email_authentications",
        onDelete: "set null"
      },
      {
        name: "user_registrations_upstream_session_fkey",
        columns: ["upstream_oauth_authorization_session_id"],
        references: "upstream_oauth_authorization_sessions",
        onDelete: "set null"
      }
    ],
    unique: []
  },
  {
    name: "user_email_authentications",
    primaryKey: ["user_email_authentication_id"],
    foreignKeys: [
      {
        name: "user_email_authentications_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "set null"
      },
      {
        name: "user_email_authentications_user_registration_id_fkey",
        columns: ["user_registration_id"],
        references: "user_registrations",
        onDelete: "cascade"
      }
    ],
    unique: []
  },
  {
    name: "user_email_authentication_codes",
    primaryKey: ["user_email_authentication_code_id"],
    foreignKeys: [
      {
        name: "user_email_authentication_cod_user_email_authentication_id_fkey",
        columns: ["user_email_authentication_id"],
        references: "user_email_authentications",
        onDelete: "cascade"
      }
    ],
    unique: [
      { name: "user_email_authentication_codes_auth_id_code_unique", columns: ["user_email_authentication_id", "code"] }
    ]
  },
  {
    name: "user_terms",
    primaryKey: ["user_terms_id"],
    foreignKeys: [{ name: "user_terms_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" }],
    unique: [{ name: "user_terms_user_id_terms_url_unique", columns: ["user_id", "terms_url"] }]
  },
  {
    name: "oauth2_clients",
    primaryKey: ["oauth2_client_id"],
    foreignKeys: [],
    unique: [{ name: "oauth2_clients_metadata_digest_unique", columns: ["metadata_digest"] }]
  },
  {
    name: "oauth2_sessions",
    primaryKey: ["oauth2_session_id"],
    foreignKeys: [
      { name: "oauth2_sessions_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" },
      {
        name: "oauth2_sessions_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "restrict"
      },
      {
        name: "oauth2_sessions_oauth2_client_id_fkey",
        columns: ["oauth2_client_id"],
        references: "oauth2_clients",
        onDelete: "restrict"
      }
    ],
    unique: []
  },
  {
    name: "oauth2_access_tokens",
    primaryKey: ["oauth2_access_token_id"],
    foreignKeys: [
      {
        name: "oauth2_access_tokens_oauth2_session_id_fkey",
        columns: ["oauth2_session_id"],
        references: "oauth2_sessions",
        onDelete: "cascade"
      }
    ],
    unique: [{ name: "oauth2_access_tokens_access_token_unique", columns: ["access_token"] }]
  },
  {
    name: "oauth2_refresh_tokens",
    primaryKey: ["oauth2_refresh_token_id"],
    foreignKeys: [
      {
        name: "oauth2_refresh_tokens_oauth2_session_id_fkey",
        columns: ["oauth2_session_id"],
        references: "oauth2_sessions",
        onDelete: "cascade"
      },
      {
        name: "oauth2_refresh_tokens_oauth2_access_token_id_fkey",
        columns: ["oauth2_access_token_id"],
        references: "oauth2_access_tokens",
        onDelete: "set null"
      },
      {
        name: "oauth2_refresh_tokens_next_oauth2_refresh_token_id_fkey",
        columns: ["next_oauth2_refresh_token_id"],
        references: "oauth2_refresh_tokens",
        onDelete: "set null"
      }
    ],
    unique: [{ name: "oauth2_refresh_tokens_refresh_token_unique", columns: ["refresh_token"] }]
  },
  {
    name: "oauth2_authorization_grants",
    primaryKey: ["oauth2_authorization_grant_id"],
    foreignKeys: [
      {
        name: "oauth2_authorization_grants_oauth2_client_id_fkey",
        columns: ["oauth2_client_id"],
        references: "oauth2_clients",
        onDelete: "restrict"
      },
      {
        name: "oauth2_authorization_grants_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "set null"
      },
      {
        name: "oauth2_authorization_grants_oauth2_session_id_fkey",
        columns: ["oauth2_session_id"],
        references: "oauth2_sessions",
        onDelete: "cascade"
      }
    ],
    unique: [{ name: "oauth2_authorization_grants_authorization_code_unique", columns: ["authorization_code"] }]
  },
  {
    name: "oauth2_device_code_grant",
    primaryKey: ["oauth2_device_code_grant_id"],
    foreignKeys: [
      {
        name: "oauth2_device_code_grant_oauth2_client_id_fkey",
        columns: ["oauth2_client_id"],
        references: "oauth2_clients",
        onDelete: "cascade"
      },
      {
        name: "oauth2_device_code_grant_oauth2_session_id_fkey",
        columns: ["oauth2_session_id"],
        references: "oauth2_sessions",
        onDelete: "cascade"
      },
      {
        name: "oauth2_device_code_grant_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "restrict"
      }
    ],
    unique: [
      { name: "oauth2_device_code_grant_device_code_unique", columns: ["device_code"] },
      { name: "oauth2_device_code_grant_user_code_unique", columns: ["user_code"] }
    ]
  },
  {
    name: "compat_sessions",
    primaryKey: ["compat_session_id"],
    foreignKeys: [
      { name: "compat_sessions_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" },
      {
        name: "compat_sessions_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "restrict"
      }
    ],
    unique: []
  },
  {
    name: "compat_sso_logins",
    primaryKey: ["compat_sso_login_id"],
    foreignKeys: [
      {
        name: "compat_sso_logins_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "cascade"
      },
      {
        name: "compat_sso_logins_compat_session_id_fkey",
        columns: ["compat_session_id"],
        references: "compat_sessions",
        onDelete: "cascade"
      }
    ],
    unique: [{ name: "compat_sso_logins_login_token_unique", columns: ["login_token"] }]
  },
  {
    name: "compat_access_tokens",
    primaryKey: ["compat_access_token_id"],
    foreignKeys: [
      {
        name: "compat_access_tokens_compat_session_id_fkey",
        columns: ["compat_session_id"],
        references: "compat_sessions",
        onDelete: "cascade"
      }
    ],
    unique: [{ name: "compat_access_tokens_access_token_unique", columns: ["access_token"] }]
  },
  {
    name: "compat_refresh_tokens",
    primaryKey: ["compat_refresh_token_id"],
    foreignKeys: [
      {
        name: "compat_refresh_tokens_compat_session_id_fkey",
        columns: ["compat_session_id"],
        references: "compat_sessions",
        onDelete: "cascade"
      },
      {
        name: "compat_refresh_tokens_compat_access_token_id_fkey",
        columns: ["compat_access_token_id"],
        references: "compat_access_tokens",
        onDelete: "cascade"
      }
    ],
    unique: [{ name: "compat_refresh_tokens_refresh_token_unique", columns: ["refresh_token"] }]
  },
  {
    name: "upstream_oauth_providers",
    primaryKey: ["upstream_oauth_provider_id"],
    foreignKeys: [],
    unique: []
  },
  {
    name: "upstream_oauth_links",
    primaryKey: ["upstream_oauth_link_id"],
    foreignKeys: [
      {
        name: "upstream_oauth_links_upstream_oauth_provider_id_fkey",
        columns: ["upstream_oauth_provider_id"],
        references: "upstream_oauth_providers",
        onDelete: "restrict"
      },
      { name: "upstream_oauth_links_user_id_fkey", columns: ["user_id"], references: "users", onDelete: "restrict" }
    ],
    unique: [
      { name: "upstream_oauth_links_provider_subject_unique", columns: ["upstream_oauth_provider_id", "subject"] }
    ]
  },
  {
    name: "upstream_oauth_authorization_sessions",
    primaryKey: ["upstream_oauth_authorization_session_id"],
    foreignKeys: [
      {
        name: "upstream_oauth_authorization_se_upstream_oauth_provider_id_fkey",
        columns: ["upstream_oauth_provider_id"],
        references: "upstream_oauth_providers",
        onDelete: "restrict"
      },
      {
        name: "upstream_oauth_authorization_sessio_upstream_oauth_link_id_fkey",
        columns: ["upstream_oauth_link_id"],
        references: "upstream_oauth_links",
        onDelete: "cascade"
      },
      {
        name: "upstream_oauth_authorization_sessions_user_session_id_fkey",
        columns: ["user_session_id"],
        references: "user_sessions",
        onDelete: "set null"
      }
    ],
    unique: [{ name: "upstream_oauth_authorization_sessions_state_unique", columns: ["state"] }]
  },
  {
    name: "personal_sessions",
    primaryKey: ["personal_session_id"],
    foreignKeys: [
      {
        name: "personal_sessions_owner_user_id_fkey",
        columns: ["owner_user_id"],
        references: "users",
        onDelete: "restrict"
      },
      {
        name: "personal_sessions_owner_oauth2_client_id_fkey",
        columns: ["owner_oauth2_client_id"],
        references: "oauth2_clients",
        onDelete: "restrict"
      },
      {
        name: "personal_sessions_actor_user_id_fkey",
        columns: ["actor_user_id"],
        references: "users",
        onDelete: "restrict"
      }
    ],
    unique: []
  },
  {
    name: "personal_access_tokens",
    primaryKey: ["personal_access_token_id"],
    foreignKeys: [
      {
        name: "personal_access_tokens_personal_session_id_fkey",
        columns: ["personal_session_id"],
        references: "personal_sessions",
        onDelete: "restrict"
      }
    ],
    unique: [
      { name: "personal_access_tokens_access_token_sha256_unique", columns: ["access_token_sha256"] },
      { name: "personal_access_tokens_one_active_per_session", columns: ["personal_session_id"], where: notRevoked }
    ]
  },
  {
    name: "policy_data",
    primaryKey: ["policy_data_id"],
    foreignKeys: [],
    unique: []
  },
  {
    name: "queue_workers",
    primaryKey: ["queue_worker_id"],
    foreignKeys: [],
    unique: []
  },
  {
    name: "queue_leader",
    primaryKey: ["active"],
    foreignKeys: [
      {
        name: "queue_leader_queue_worker_id_fkey",
        columns: ["queue_worker_id"],
        references: "queue_workers",
        onDelete: "restrict"
      }
    ],
    unique: [{ name: "queue_leader_active_unique", columns: ["active"] }]
  },
  {
    name: "queue_schedules",
    primaryKey: ["schedule_name"],
    foreignKeys: [
      {
        name: "queue_schedules_last_scheduled_job_id_fkey",
        columns: ["last_scheduled_job_id"],
        references: "queue_jobs",
        onDelete: "set null"
      }
    ],
    unique: []
  },
  {
    name: "queue_jobs",
    primaryKey: ["queue_job_id"],
    foreignKeys: [
      {
        name: "queue_jobs_started_by_fkey",
        columns: ["started_by"],
        references: "queue_workers",
        onDelete: "restrict"
      },
      {
        name: "queue_jobs_next_attempt_id_fkey",
        columns: ["next_attempt_id"],
        references: "queue_jobs",
        onDelete: "set null"
      },
      {
        name: "queue_jobs_schedule_name_fkey",
        columns: ["schedule_name"],
        references: "queue_schedules",
        onDelete: "restrict"
      }
    ],
    unique: []
  }
]
