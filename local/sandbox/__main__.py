"""``python -m local.sandbox [--host 127.0.0.1] [--port 4010]``: serve every provider sandbox with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from local.sandbox.app import create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sandbox", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4010)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level, lifespan="off")


if __name__ == "__main__":
    main()
