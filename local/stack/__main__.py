"""``python -m local.stack [dev | weekly-sync | redrive-dlq | env | token]`` (see local/stack/README.md)."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import signal
import socket
import sys
import threading
import time
import warnings
from typing import Any

from local.stack.stack import LocalStack

log = logging.getLogger("local.stack")


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "uvicorn.error", "pynamodb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Powertools warns on every invoke that publishes only the cold-start metric; noise in a dev console.
    warnings.filterwarnings("ignore", message="No application metrics to publish")


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def cmd_dev(args: argparse.Namespace) -> int:
    stack = LocalStack(args.template)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        stack.start()
    except OSError as exc:
        print(
            f"cannot start the local stack: {exc} (ports in use? set LOCAL_API_PORT / LOCAL_MOTO_PORT / "
            "LOCAL_SANDBOX_PORT)",
            file=sys.stderr,
        )
        return 1
    _print_banner(stack)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        print("stopping...", flush=True)
        stack.stop()
        print("stopped", flush=True)
    return 0


def _print_banner(stack: LocalStack) -> None:
    sandbox = (
        f"{stack.sandbox_url}/{{provider}}  (control plane {stack.sandbox_url}/_sandbox/)"
        if stack.sandbox_url
        else f"not started ({stack._sandbox.skipped_reason if stack._sandbox else 'disabled'})"
    )
    lines = [
        "BlueClerk local stack (resources from template.yaml)",
        f"  API (local HTTP API)   {stack.api_url}   docs: {stack.api_url}/swagger",
        f"  AWS stand-in (moto)    {stack.moto_url}",
        f"  provider sandboxes     {sandbox}",
        f"  routes                 {len(stack.routes)} ({sum(r.auth == 'JWT' for r in stack.routes)} behind the JWT "
        "authorizer: Authorization: Bearer $(python -m local.stack token --company-id <id>))",
        "  queue pollers          " + ", ".join(p.name for p in stack.pollers),
        f"  weekly schedule        python -m local.stack weekly-sync   (SQS retry delay {stack.retry_delay}s)",
        f"ready in {stack.started_in:.1f}s - Ctrl-C to stop",
    ]
    print("\n".join(lines), flush=True)


def _attach(args: argparse.Namespace) -> LocalStack | None:
    stack = LocalStack(args.template, preload=False)
    if not _port_open(stack.host, stack.moto_port):
        print(
            f"no local stack on {stack.host}:{stack.moto_port}; start it first: python -m local.stack", file=sys.stderr
        )
        return None
    return stack.attach()


def cmd_weekly_sync(args: argparse.Namespace) -> int:
    stack = _attach(args)
    if stack is None:
        return 1
    runs = stack.fire_schedule(args.name)
    if not runs:
        print("no schedule found in the Scheduler stand-in", file=sys.stderr)
        return 1
    failed = False
    for run in runs:
        if run.error is not None:
            failed = True
            print(f"{run.schedule} -> {run.function_id}: FAILED {type(run.error).__name__}: {run.error}")
        else:
            print(f"{run.schedule} -> {run.function_id}: {json.dumps(run.result, default=str)}")
    print("the running stack's pollers process what it enqueued")
    return 1 if failed else 0


def cmd_redrive(args: argparse.Namespace) -> int:
    stack = _attach(args)
    if stack is None:
        return 1
    moved = stack.redrive_dlqs()
    for dlq, count in moved.items():
        print(f"{dlq}: {count} message(s) moved back")
    return 0


def cmd_env(args: argparse.Namespace) -> int:
    stack = _attach(args)
    if stack is None:
        return 1
    for key, value in sorted(stack.env.items()):
        print(f"export {key}={shlex.quote(value)}")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    claims: dict[str, Any] = {"sub": args.sub}
    if args.company_id:
        claims["company_id"] = args.company_id
    for extra in args.claim or []:
        key, _, value = extra.partition("=")
        claims[key] = value
    from local.stack.gateway import JwtAuthorizer

    print(JwtAuthorizer().issue(claims, ttl_seconds=args.ttl))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local.stack", description=__doc__)
    parser.add_argument("--template", default=None, help="template path (default: template.yaml of the repo)")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("dev", help="start everything in the foreground (default)")
    weekly = sub.add_parser("weekly-sync", help="fire the schedule(s) now against the running stack")
    weekly.add_argument("--name", default=None, help="only this schedule")
    sub.add_parser("redrive-dlq", help="move every DLQ's messages back to their source queue")
    sub.add_parser("env", help="print the functions' environment of the running stack as export lines")
    token = sub.add_parser("token", help="print a JWT the local authorizer accepts")
    token.add_argument("--company-id", default="company-local")
    token.add_argument("--sub", default="user-local")
    token.add_argument("--ttl", type=int, default=12 * 3600)
    token.add_argument("--claim", action="append", help="extra claim key=value (repeatable)")
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    started = time.monotonic()
    handlers = {
        None: cmd_dev,
        "dev": cmd_dev,
        "weekly-sync": cmd_weekly_sync,
        "redrive-dlq": cmd_redrive,
        "env": cmd_env,
        "token": cmd_token,
    }
    try:
        code = handlers[args.command](args)
    except BrokenPipeError:  # `python -m local.stack env | head`
        sys.stderr.close()
        return 0
    log.debug("%s finished in %.1fs", args.command or "dev", time.monotonic() - started)
    return code


if __name__ == "__main__":
    sys.exit(main())
