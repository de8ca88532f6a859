"""Where the dev stack keeps its state, rendered configs and logs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mesh.settings import Settings


@dataclass(frozen=True)
class Layout:
    """Every path the stack writes, derived from the settings' data and log folders."""

    settings: Settings

    @property
    def run(self) -> Path:
        return self.settings.data_dir / "run"

    @property
    def postgres_data(self) -> Path:
        return self.settings.data_dir / "postgres"

    @property
    def kafka_data(self) -> Path:
        return self.settings.data_dir / "kafka"

    @property
    def consul_data(self) -> Path:
        """Consul's raft log and state: the CA, registrations and intentions survive a restart."""
        return self.settings.data_dir / "consul"

    @property
    def process_certs(self) -> Path:
        """Each runtime process's identity files (a folder each); emptied at every start."""
        return self.run / "certs"

    @property
    def prometheus_data(self) -> Path:
        return self.settings.data_dir / "prometheus"

    @property
    def maildir(self) -> Path:
        return self.settings.data_dir / "mail"

    @property
    def compose_file(self) -> Path:
        return self.run / "process-compose.yaml"

    @property
    def hosts_file(self) -> Path:
        """The stack's own host names (`video-query-1`) and their loopback addresses."""
        return self.run / "hosts"

    @property
    def probes_file(self) -> Path:
        """What the stack's prober checks: component -> (kind, address)."""
        return self.run / "probes.json"

    @property
    def socket(self) -> Path:
        return self.run / "process-compose.sock"

    @property
    def state_file(self) -> Path:
        """Pids of a running stack, so a killed run's leftovers can be found and stopped."""
        return self.run / "stack.json"

    @property
    def logs(self) -> Path:
        return self.settings.log_dir

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"
