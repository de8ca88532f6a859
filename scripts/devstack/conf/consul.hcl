# Consul on loopback: one persistent server (its state on disk), Connect and the UI on. It
# keeps its CA, trust domain, registrations and intentions across a crash or a restart: a dev
# agent (-dev) would come back with a new CA and no intentions, and Consul without ACLs
# allows every call by default, so the mesh would fail open.
server           = true
bootstrap_expect = 1
data_dir         = "${CONSUL_DATA_DIR}"
bind_addr        = "${VIDMESH_HOST}"
client_addr      = "${VIDMESH_HOST}"
log_level        = "warn"
# No internet here, and a sample should not phone home.
disable_update_check = true

connect {
  enabled = true
}
ui_config {
  enabled = true
}
# The fast timers of a dev agent: a single server elects itself within a second or two.
performance {
  raft_multiplier = 1
}

# Every process holds blocking queries open (its leaf, the roots, its intentions) and, natively,
# all of them reach Consul from loopback, which Consul counts as one client: its default of
# 200 connections per client answered 429 under the tests.
limits {
  http_max_conns_per_client = 2000
}

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
