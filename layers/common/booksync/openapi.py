"""The API's OpenAPI document, generated from the code (every route of every HTTP function)."""

from __future__ import annotations

from booksync.api import make_resolver

TITLE = "BlueClerk accounting sync API"
VERSION = "1.0.0"


def openapi_json() -> str:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    from booksync.routes import catalog, integrations, invoices, notifications, oauth, sync

    app = make_resolver(
        [catalog.build(), invoices.build(), integrations.build(), notifications.build(), sync.build(), oauth.build()]
    )
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Routes the BlueClerk frontend and operators use. Every route except the OAuth callback needs "
        '`Authorization: Bearer <JWT>` with a `company_id` claim. Errors: `{"error": {"code", "message", '
        '"details"?}}`. Money is a decimal string.',
        security_schemes={"jwt": HTTPBearer(bearerFormat="JWT")},
        security=[{"jwt": []}],
    )


def swagger_html(spec_url: str = "/openapi.json", assets_url: str = "/swagger-ui") -> str:
    """The Swagger page; ``assets_url`` serves Swagger UI's files (the local gateway ships them: works offline)."""
    return f"""<!doctype html><html><head><title>{TITLE}</title><meta charset="utf-8">
<link rel="stylesheet" href="{assets_url}/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="{assets_url}/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({{url: "{spec_url}", dom_id: "#swagger-ui"}});</script>
<noscript>The raw document is at <a href="{spec_url}">{spec_url}</a>.</noscript></body></html>"""


if __name__ == "__main__":  # python -m booksync.openapi > openapi.json
    print(openapi_json())
