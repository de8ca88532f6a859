"""The email service's adapters: Postgres (store, wakeups), SMTP, protobuf mapping."""
