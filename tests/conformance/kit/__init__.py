"""The conformance kit: black-box checks of MESH.md against a running instance of a service.

It talks to an instance only as any client could, whatever language the service is written
in: gRPC (grpc.health.v1, server reflection, its own methods, built from reflected
descriptors and the topology's proto3 JSON samples), Consul's HTTP API, Kafka, and the JSON
lines the instance writes on stdout. Each check raises `Nonconformance` naming the section of
MESH.md it saw broken and what it saw.

- checks that disturb nothing run against the stack's own instance, found in Consul by name;
- checks that disrupt an instance or read its log run against the kit's own instance
  (kit/instance.py), isolated by kit/isolation.py so the stack is never signalled, its topics
  never consumed by a new group and its outboxes never shared.

tests/conformance/contract runs every check for each service of mesh/topology.py;
tests/conformance/selftest shows that each check fails against tests/conformance/breaker, a
small service that breaks one rule when told to.
"""
