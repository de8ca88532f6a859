# Consul dev agent on loopback: in-memory, a server of its own, UI on the HTTP port.
bind_addr   = "${VIDMESH_HOST}"
client_addr = "${VIDMESH_HOST}"
log_level   = "warn"
# No internet here, and a sample should not phone home.
disable_update_check = true

ports {
  http     = ${VIDMESH_CONSUL_HTTP_PORT}
  server   = ${VIDMESH_CONSUL_SERVER_PORT}
  serf_lan = ${VIDMESH_CONSUL_SERF_PORT}
  # Not used by vidmesh: DNS, WAN gossip and the Connect gRPC ports stay closed.
  serf_wan = -1
  dns      = -1
  grpc     = -1
  grpc_tls = -1
}
