-- As in MAS, neither a user's email address nor a recovery ticket's text is unique: adding one twice stores a
-- second row instead of failing (and dooming the unit of work). Lookups keep their indexes: user_emails_user_id_fk
-- and user_emails_lower_email_idx for addresses, user_recovery_tickets_ticket_idx (the previous migration) for tickets.
ALTER TABLE user_emails
    DROP CONSTRAINT user_emails_user_id_email_unique;

ALTER TABLE user_recovery_tickets
    DROP CONSTRAINT user_recovery_tickets_ticket_unique;
