"""The README's "Try it" block does what its comments say: run as it is, in one bash session
against the running stack, each command prints the text after its `# -> `.

Only the addresses change: the block names the default addresses of settings.env, the stack
under test may run on others (VIDMESH_*_PORT overrides).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from mesh.settings import ROOT, Settings, load
from tests.e2e.support.rest import Gateway
from tests.e2e.support.waiting import eventually

BLOCK = re.compile(r"^## Try it\n.*?^```sh\n(?P<body>.*?)^```", re.S | re.M)
CLAIM = re.compile(r"\s#\s[^#]*->\s(?P<expected>.+)$")
TOOLS = {"curl": "curl", "jq": "jq", "kcat": "kcat", "psql": "postgresql-client"}  # command -> Debian package
RUN_TIMEOUT_S = 240
TOKEN_WAIT_S = 90.0


@dataclass(frozen=True)
class Command:
    """One shell command of the block (continuation lines joined) and what it claims to print."""

    text: str
    expected: str | None


def try_it_commands() -> list[Command]:
    """The commands of README.md's Try it block, in order."""
    found = BLOCK.search((ROOT / "README.md").read_text())
    assert found, "README.md has no ```sh block under '## Try it'"
    commands, pending = [], ""
    for line in found["body"].splitlines():
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text, pending = pending + line, ""
        claim = CLAIM.search(text)
        commands.append(Command(text[:claim.start()] if claim else text, claim["expected"] if claim else None))
    return commands


def script(commands: list[Command]) -> str:
    """One bash script: each claiming command's output (stderr too) between markers."""
    lines = []
    for n, command in enumerate(commands):
        if command.expected is None:
            lines.append(command.text)
        else:
            lines += [f"echo '@@{n}'", f"{{ {command.text.strip()} ; }} 2>&1", "echo", f"echo '@@{n} end'"]
    return "\n".join(lines) + "\n"


def at_stack_addresses(text: str, settings: Settings) -> str:
    """The script with the default addresses and cache folder replaced by the stack's."""
    defaults = {(owner, key): f"{host}:{port}" for owner, key, host, port in load(environ={}).ports()}
    moved = {defaults[(owner, key)]: f"{host}:{port}"
             for owner, key, host, port in settings.ports() if (owner, key) in defaults}
    text = re.sub(r"\b127(?:\.\d+){3}:\d+\b", lambda m: moved.get(m[0], m[0]), text)
    return text.replace("~/.cache/vidmesh", str(settings.cache_dir))


def outputs(stdout: str, count: int) -> dict[int, str]:
    """Each claiming command's output, by its index."""
    found = {}
    for n in range(count):
        match = re.search(rf"^@@{n}\n(.*?)^@@{n} end$", stdout, re.S | re.M)
        if match:
            found[n] = match[1]
    return found


def wait_for_a_login(gateway: Gateway, settings: Settings) -> None:
    """The block logs in once before its burst: wait (bounded) until the shared login bucket
    has a token to spare after this probe. Each probe takes a token, so probe no faster than
    two come back."""

    def spare() -> bool:
        response = gateway.login("nobody@example.test", "not a password 1")
        return response.status_code != 429 and int(response.headers.get("x-ratelimit-remaining", "0")) >= 1

    refill_s = 60 / settings.gateway_login_burst  # the gateway's login bucket: LOGIN_BURST a minute
    eventually(spare, "a login token to spare", timeout=TOKEN_WAIT_S, interval=2 * refill_s)


def test_the_try_it_block_prints_what_its_comments_say(gateway: Gateway, settings: Settings) -> None:
    missing = [f"{tool} (apt-get install {package})" for tool, package in TOOLS.items() if not shutil.which(tool)]
    assert not missing, f"the Try it block needs {', '.join(missing)}; .ci/run installs them"
    commands = try_it_commands()
    claims = {n: c for n, c in enumerate(commands) if c.expected}
    assert len(claims) >= 15, f"the block claims little: {len(claims)} commands with `# ->`"
    wait_for_a_login(gateway, settings)
    done = subprocess.run(["bash", "-c", at_stack_addresses(script(commands), settings)], cwd=ROOT,
                          env={**os.environ, "PGPORT": str(settings.postgres_port)},
                          capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    printed = outputs(done.stdout, len(commands))
    wrong = [f"{c.text.strip()}\n  wanted: {c.expected}\n  got: {printed.get(n, '(nothing: it did not run)')[:400]}"
             for n, c in claims.items() if (c.expected or "") not in printed.get(n, "")]
    assert not wrong, "\n".join(wrong) + f"\nstderr: {done.stderr[-1000:]}"
