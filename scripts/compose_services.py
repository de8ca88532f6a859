"""The vidmesh half of docker-compose.yml, written from mesh/topology.py and settings.env.

The infrastructure above the marker line is written by hand; below it, the control plane and
one Compose service per instance of each topology entry (`video-query`, `video-query-1`, ...,
as natively), so adding a service to the topology adds it to Compose too. Each instance gets
the environment mesh/config.py reads, with Compose host names; its name resolves through
Docker's DNS, and the mesh registers the IP it resolves to. Standard library only.
"""

from __future__ import annotations

import json

from mesh import topology
from mesh.settings import Settings

# Inside the `services:` mapping: the infrastructure above it, the vidmesh services below.
MARKER = "  # --- generated from mesh/topology.py and settings.env by `make compose-env`; do not edit below ---\n"

XDS = """\
  # The xDS control plane: watches Consul, feeds Envoy (ADS over mutual TLS, on 18443) and the
  # BFFs' proxyless gRPC clients (plaintext ADS, on 18000).
  xds:
    <<: *vidmesh-image
    command: ["python", "-m", "mesh.xds"]
    environment:
      <<: *mesh-env
      # Where it listens; everyone else dials xds:18000 and xds:18443.
      VIDMESH_XDS_ADDR: 0.0.0.0:18000
      VIDMESH_XDS_MTLS_ADDR: 0.0.0.0:18443
      # The gateway's routes (gateway/routes.yaml) are served from here, over RDS.
      VIDMESH_WEB_ORIGIN: ${VIDMESH_WEB_ORIGIN}
      VIDMESH_GATEWAY_LOGIN_BURST: ${VIDMESH_GATEWAY_LOGIN_BURST}
    ports: ["${VIDMESH_HOST}:${VIDMESH_XDS_PORT}:18000"]
    depends_on:
      consul: { condition: service_healthy }
      intentions: { condition: service_completed_successfully }
    healthcheck:
      test: ["CMD", "python", "-m", "mesh.health_probe", "127.0.0.1:${VIDMESH_INSTANCE_HEALTH_PORT}"]
      <<: *grpc-health
"""

DB_INIT = """\
  # Databases, roles, schemas and grants of every topology entry, by the same code as natively
  # (`python -m mesh.dbbootstrap`) at every start: it is idempotent, so an existing volume
  # picks up new services and changed passwords.
  db-init:
    <<: *vidmesh-image
    command: ["python", "-m", "mesh.dbbootstrap"]
    environment:
      # Where the superuser reaches Postgres from inside the network.
      VIDMESH_HOST: postgres
      VIDMESH_POSTGRES_PORT: "5432"
      VIDMESH_POSTGRES_USER: ${VIDMESH_POSTGRES_USER}
      VIDMESH_POSTGRES_PASSWORD: ${VIDMESH_POSTGRES_PASSWORD}
"""

TRAFFIC_INIT = """\
  # Before a canary registers: a resolver whose default is the stable version, so a canary
  # takes no call until `make canary` says so (python -m mesh.traffic, as natively).
  traffic-init:
    <<: *vidmesh-image
    command: ["python", "-m", "mesh.traffic", "keep-dark"]
    environment:
      <<: *mesh-env
    depends_on: { consul: { condition: service_healthy } }
    restart: "no"
"""

INFRASTRUCTURE_VOLUMES = ("postgres-data", "kafka-data", "consul-data", "gateway-config", "gateway-identity",
                          "telemetry-config")


def compose_name(service: topology.Service, n: int) -> str:
    """Instance 0 is the service's own name, instance N its name and N (`video-query-1`)."""
    return service.name if n == 0 else f"{service.name}-{n}"


def port_variable(service: topology.Service, n: int) -> str:
    """The .env variable of instance N's port: VIDMESH_X_PORT, then VIDMESH_X_N_PORT."""
    return service.port_setting if n == 0 else service.port_setting.replace("_PORT", f"_{n}_PORT")


def _depends_on(service: topology.Service, canary: bool = False) -> list[str]:
    needs = [("consul", "service_healthy"), ("intentions", "service_completed_successfully")]
    if canary:
        needs.append(("traffic-init", "service_completed_successfully"))
    if service.database:
        needs.insert(0, ("db-init", "service_completed_successfully"))
    if service.produces or service.consumes:
        needs.append(("kafka", "service_healthy"))
    if service.calls:
        needs.append(("xds", "service_healthy"))
    if service.sends_mail:
        needs.append(("mailpit", "service_healthy"))
    return [f"      {name}: {{ condition: {condition} }}" for name, condition in needs]


def instance(service: topology.Service, n: int, version: str | None = None) -> str:
    """The Compose service of instance `n` of `service` (a canary when `version` is given)."""
    port = "${" + port_variable(service, n) + "}"
    env = [f"      VIDMESH_GRPC_PORT: {port}", f"      VIDMESH_ADVERTISE_HOST: {compose_name(service, n)}"]
    if version:
        env.append(f'      VIDMESH_SERVICE_VERSION: "{version}"')
    if service.database:
        role, name = service.database.role, service.database.name
        secret = "${" + password_variable(role) + "}"
        env.append(f"      VIDMESH_DATABASE_URL: postgresql://{role}:{secret}@postgres:5432/{name}")
    return "\n".join([
        f"  {compose_name(service, n)}:",
        "    <<: *vidmesh-image",
        f"    command: {json.dumps(list(service.command))}",
        "    environment:",
        "      <<: *mesh-env",
        *env,
        "    # The service's own files (e.g. users' signing keys), shared by its instances.",
        f'    volumes: ["{service.name}-data:/var/lib/vidmesh"]',
        f'    ports: ["${{VIDMESH_HOST}}:{port}:{port}"]',
        "    depends_on:",
        *_depends_on(service, canary=version is not None),
        "    healthcheck:",
        '      test: ["CMD", "python", "-m", "mesh.health_probe", "127.0.0.1:${VIDMESH_INSTANCE_HEALTH_PORT}"]',
        "      <<: *grpc-health",
    ]) + "\n"


def db_init() -> str:
    """The one-shot that bootstraps every service's database, with each role's password."""
    passwords = [f"      {password_variable(role)}: ${{{password_variable(role)}}}" for role in topology.databases()]
    return DB_INIT + "\n".join([*passwords, "    depends_on: { postgres: { condition: service_healthy } }",
                                 '    restart: "no"']) + "\n"


def password_variable(role: str) -> str:
    """The variable of a role's password (mesh/dbbootstrap.py reads the same name)."""
    return f"VIDMESH_DB_PASSWORD_{role.upper()}"


def render(settings: Settings) -> str:
    """Everything below the marker: the database bootstrap, the control plane, every instance
    and the volumes."""
    blocks = [db_init(), XDS, *([TRAFFIC_INIT] if settings.canaries else [])]
    for service in topology.SERVICES:
        blocks += [instance(service, n, settings.instance_version(service.key, n))
                   for n in range(settings.instance_count(service.key))]
    volumes = [*INFRASTRUCTURE_VOLUMES, *(f"{service.name}-data" for service in topology.SERVICES)]
    return MARKER + "\n".join(blocks) + "\nvolumes:\n" + "".join(f"  {v}:\n" for v in volumes)


def rewrite(text: str, settings: Settings) -> str:
    """`text` (docker-compose.yml) with everything from the marker on written anew."""
    head, found, _ = text.partition(MARKER)
    if not found:
        raise ValueError(f"docker-compose.yml has no line {MARKER.strip()!r}")
    return head + render(settings)
