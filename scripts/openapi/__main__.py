"""python -m scripts.openapi [build] [--force]: the OpenAPI document and its TypeScript types."""

from __future__ import annotations

import argparse
import sys

from mesh.settings import ROOT

sys.path.insert(0, str(ROOT / "gen" / "python"))  # the descriptors, as `make protos` generated them

from scripts.console import say
from scripts.openapi.build import build
from scripts.protos import ContractsError
from scripts.webapp import BuildFailed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", nargs="?", default="build", choices=["build"])
    parser.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    args = parser.parse_args(argv)
    try:
        build(force=args.force)
    except (ContractsError, BuildFailed, ValueError, FileNotFoundError) as error:
        say(f"codegen: error: {error}", stream=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
