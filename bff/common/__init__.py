"""What web-bff and mobile-bff share: ports to the domain services and their gRPC adapters,
the viewer from `x-user-id`, per-call deadlines, the one downstream-error mapping, fan-out,
and the channels to the services each BFF calls."""
