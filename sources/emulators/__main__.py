"""Serve every emulated API on one local port: ``python -m sources.emulators --port 8765``."""

from __future__ import annotations

import argparse
from pathlib import Path

from sources.emulators.stack import build_stack


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--service-account",
        type=Path,
        required=True,
        help="service-account JSON the Google emulators trust (created if missing)",
    )
    args = parser.parse_args()
    stack = build_stack(args.service_account, host=args.host, port=args.port)
    print(f"emulators listening on {stack.server.base_url}", flush=True)
    stack.server.serve_forever()


if __name__ == "__main__":
    main()
