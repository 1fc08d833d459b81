"""The committed openapi.json is what the code generates (run `make openapi` after changing a route)."""

from __future__ import annotations

import json

from booksync.openapi import openapi_json
from tests.helpers import ROOT


def test_committed_openapi_matches_the_code() -> None:
    committed = json.loads((ROOT / "openapi.json").read_text())
    assert committed == json.loads(openapi_json()), "openapi.json is stale: run `make openapi` and commit it"


def test_every_template_route_is_documented_and_vice_versa() -> None:
    from local.stack import Template

    routes = {(r.method.lower(), r.path) for r in Template.load().http_routes()}
    spec = json.loads(openapi_json())
    documented = set()
    for path, ops in spec["paths"].items():
        for method in ops:
            normalised = path
            for name in ("customer_id", "item_id", "invoice_id", "notification_id"):
                normalised = normalised.replace("{" + name + "}", "{id}")
            documented.add((method, normalised))
    assert routes, "the template declares no HTTP routes"
    assert routes == documented
