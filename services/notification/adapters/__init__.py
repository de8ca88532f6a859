"""The notification service's adapters: Postgres, the outbox, protobuf mapping."""
