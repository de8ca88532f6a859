// Package gomesh is vidmesh's mesh runtime for Go services, the Go twin of the Python
// mesh/ package: whatever a second Go service would otherwise copy lives here.
//
//	config        the VIDMESH_* settings, same names and defaults as mesh/config.py
//	logging       JSON lines (log/slog) with service and trace_id on every line
//	domainerr     domain errors and the one table that maps them to gRPC statuses
//	interceptors  access log with W3C traceparent, errors, deadline cap, protovalidate
//	registry      Consul self-registration with a gRPC health check
//	server        the gRPC server: health, reflection, registration, drain on SIGTERM
//	db            the Postgres pool and transactions
//	migrate       SQL migrations (goose), gomesh's own inbox first
//	events        the vidmesh.events.v1 envelope: parse and validate
//	kafka         topic names and settings shared by every consumer
//	consumer      the idempotent consumer: inbox row in the effect's transaction, DLQ
package gomesh
