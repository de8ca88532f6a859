"""The Backends for Frontends: web-bff (bff.web) and mobile-bff (bff.mobile).

Each is a gRPC service with no database of its own: it reads the verified user from the
gateway's `x-user-id` header, fans out to the domain services in parallel over proxyless
gRPC (discovery through the xDS control plane), and shapes their answers into what its
client draws. What both share lives in bff.common.
"""
