"""The native dev stack: real Postgres, Kafka, Consul, Envoy and an SMTP sink as local processes."""
