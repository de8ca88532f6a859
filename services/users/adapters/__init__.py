"""The users service's adapters: Postgres storage and the outbox events it writes."""
