-- no-transaction
-- Ticket lookups (findTicket), once the ticket text is no longer unique (as in MAS, a plain index).
CREATE INDEX CONCURRENTLY IF NOT EXISTS user_recovery_tickets_ticket_idx
    ON user_recovery_tickets (ticket);
