"""Step 2, Service Discovery: instances register themselves; a dead one leaves the routing."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import threading
import time

import httpx
import psutil

from scripts.demo import show
from scripts.demo.calls import StepFailed, expect
from scripts.demo.views import Registry, Routing, wait_group_stable
from scripts.demo.world import Demo

WHY = """Every service instance registers itself in Consul with a gRPC health check, and the
control plane pushes the healthy ones to Envoy (and to the BFFs' gRPC clients). Nobody holds a
hard-coded address, so an instance can die without clients noticing: we kill -9 one of the two
video-query instances while requests flow, then start it again."""
SERVICE = "video-query"


class Traffic(threading.Thread):
    """Reads of one video through the gateway, every 20 ms, counting the failed ones."""

    def __init__(self, base_url: str, path: str) -> None:
        super().__init__(daemon=True)
        self.base_url, self.path = base_url, path
        self.ok = 0
        self.failed: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=12) as client:
            while not self.done.is_set():
                try:
                    response = client.get(self.path)
                    self.ok += response.status_code == 200
                    if response.status_code != 200:
                        self.failed.append(f"{response.status_code} {response.text[:120]}")
                except httpx.HTTPError as error:
                    self.failed.append(repr(error))
                self.done.wait(0.02)


def run(demo: Demo) -> str:
    """Healthy instances, kill -9 of one under traffic, zero failed reads, then restarted."""
    show.heading(2, "Service Discovery", "Consul knows who is alive; Envoy follows")
    show.explain(WHY)
    registry, routing = Registry(demo.settings), Routing(demo.settings)
    show_instances(demo, registry, routing)
    victim = f"{SERVICE}-0"
    port = demo.settings.instance_ports("video_query")[0]
    address = f"{demo.settings.instance_address('video_query', 0)}:{port}"
    consul_id = f"{SERVICE}-{victim}-{port}"  # an instance registers by its name
    traffic = Traffic(demo.rest.base_url, f"/api/mobile/v1/videos/{demo.video_id}")
    traffic.start()
    try:
        lag = kill_one(demo, registry, routing, victim, address, consul_id)
        before = traffic.ok
        deadline = time.monotonic() + 10
        while traffic.ok < before + 30 and time.monotonic() < deadline:
            time.sleep(0.05)  # let traffic flow on the survivor for a moment (bounded)
    finally:
        traffic.done.set()
        traffic.join(15)
        restart(demo, registry, victim, consul_id)
    show.say(f"reads through the gateway while it died: {traffic.ok} ok, {len(traffic.failed)} failed")
    expect(not traffic.failed, "no read failed" + (f": {traffic.failed[:3]}" if traffic.failed else ""))
    return f"killed {victim}: out of routing {lag:.2f} s after Consul saw it, {traffic.ok} reads, 0 failed"


def show_instances(demo: Demo, registry: Registry, routing: Routing) -> None:
    show.say("the instances Consul knows, with their health")
    show.command(f"curl -s {registry.base}/v1/health/service/{SERVICE} | jq -r '.[] | "
                 '"\\(.Service.ID)  \\(.Checks | map(.Status) | join(","))"\'')
    found = registry.instances(SERVICE)
    show_table(found)
    expect(sum(set(i["status"].split(",")) == {"passing"} for i in found) >= 2, "two passing instances")
    for instance in found:
        demo.grpcurl.call(instance["address"], "grpc.health.v1.Health/Check")
    show.say("the endpoints the gateway routes video-query to")
    show.command(f"curl -s {routing.base}/clusters | grep '^{SERVICE}::.*::health_flags'")
    show.result("\n".join(sorted(routing.endpoints(SERVICE))))


def show_table(found: list[dict[str, str]]) -> None:
    show.result("\n".join(f"{i['id']}  {i['status']}" for i in found))


def kill_one(demo: Demo, registry: Registry, routing: Routing, victim: str, address: str, consul_id: str) -> float:
    pid = next((s.pid for s in demo.stack.pc.processes() or [] if s.name == victim and s.running), 0)
    if not pid:
        raise StepFailed(f"{victim} is not running")
    show.say(f"kill -9 {victim} (no goodbye: it cannot deregister) while reads flow")
    root = psutil.Process(pid)
    show.command(f"kill -9 {' '.join(str(p.pid) for p in [root, *root.children(recursive=True)])}")
    for process in [*root.children(recursive=True), root]:
        process.send_signal(signal.SIGKILL)
    killed = time.monotonic()
    critical = registry.wait_status(SERVICE, consul_id, "critical", 20)
    gone = routing.wait_endpoint(SERVICE, address, present=False, timeout=20)
    show.result(f"Consul's check failed after {critical - killed:.2f} s; "
                f"the gateway stopped routing to it {gone - critical:+.2f} s later")
    expect(gone - critical <= 2.0, "out of the gateway's routing within 2 s")
    return gone - critical


def restart(demo: Demo, registry: Registry, victim: str, consul_id: str) -> None:
    show.say(f"the stack starts {victim} again by itself, as it restarts whatever dies; wait for it")
    if not any(s.name == victim and s.running for s in demo.stack.pc.processes() or []):
        # Refused while process-compose's own restart is pending; the readiness wait judges.
        with contextlib.suppress(subprocess.CalledProcessError):
            demo.stack.pc.start_process(victim)
    if not demo.stack.wait_ready(victim, 60):
        raise StepFailed(f"{victim} did not come back; see `make status`")
    registry.wait_status(SERVICE, consul_id, "passing", 30)
    # Its projector rejoins the consumer group; the rebalance pauses every instance's projection
    # (a canary's too: it is dark to callers, not to Kafka).
    wait_group_stable(f"{demo.settings.host}:{demo.settings.kafka_port}", SERVICE,
                      demo.settings.instance_count("video_query"), 30)
    show_table(registry.instances(SERVICE))
