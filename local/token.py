"""Mint a local JWT for the local gateway: `python -m local.token [company_id] [--ttl SECONDS]`.

The local gateway plays API Gateway's JWT authorizer with HS256 and LOCAL_JWT_SECRET (default local-dev-secret).
"""

from __future__ import annotations

import argparse
import os
import time

import jwt


def mint(company_id: str, ttl: int = 8 * 3600, secret: str | None = None) -> str:
    now = int(time.time())
    claims = {
        "sub": f"user-of-{company_id}",
        "company_id": company_id,
        "iss": os.environ.get("LOCAL_JWT_ISSUER", "https://auth.blueclerk.local"),
        "aud": os.environ.get("LOCAL_JWT_AUDIENCE", "blueclerk-api"),
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret or os.environ.get("LOCAL_JWT_SECRET", "local-dev-secret"), algorithm="HS256")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("company_id", nargs="?", default="co_demo_plumbing")
    parser.add_argument("--ttl", type=int, default=8 * 3600)
    args = parser.parse_args()
    print(mint(args.company_id, args.ttl))


if __name__ == "__main__":
    main()
