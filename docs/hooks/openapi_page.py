"""mkdocs hook: the API reference page gets the API's own OpenAPI document, rendered as Markdown.

The document is the one `GET /openapi.json` serves: the app is built by `create_app` with throwaway
settings (a temporary SQLite ledger, counters in memory) and asked for it through Flask's test client.
Nothing is contacted: the Kafka producer is only created on the first publish. The page says where the
document is generated, so a changed operation shows up in the site with no hand edit.
"""
from __future__ import annotations

import json
import tempfile

MARKER = "<!-- openapi-operations -->"
METHODS = ("get", "post", "put", "patch", "delete")


def on_page_markdown(markdown: str, **_) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, render(openapi_document()))


def openapi_document() -> dict:
    from gateway_api import create_app
    from gateway_api.settings import Settings
    from infra.runtime.card_cipher import CardDataKeys
    from infra.runtime.settings import Secret

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(admin_token=Secret("docs-admin-token-" + "x" * 32), secret_pepper=Secret("docs-" + "p" * 32),
                            card_data_keys=CardDataKeys.generate("docs"), webhook_secrets_key=Secret("A" * 43 + "="),
                            database_url=f"sqlite:///{folder}/ledger.db", rate_limit_storage_url="memory://")
        app = create_app(settings)
        try:
            return app.test_client().get("/openapi.json").get_json()
        finally:
            app.extensions["gateway_api"].engine.dispose()


def render(document: dict) -> str:
    schemas = document.get("components", {}).get("schemas", {})
    parts = [f"Generated from `GET /openapi.json` (OpenAPI {document['openapi']}, "
             f"{document['info']['title']} {document['info']['version']}) when the site is built.\n"]
    for tag, operations in operations_by_tag(document).items():
        parts.append(f"## {tag[:1].upper() + tag[1:]}\n")
        parts.extend(render_operation(path, method, operation) for path, method, operation in operations)
    parts.append("## Schemas\n")
    parts.extend(render_schema(name, schema) for name, schema in sorted(schemas.items()))
    return "\n".join(parts)


def operations_by_tag(document: dict) -> dict[str, list[tuple[str, str, dict]]]:
    tags: dict[str, list[tuple[str, str, dict]]] = {}
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tags.setdefault((operation.get("tags") or ["Other"])[0], []).append((path, method, operation))
    return tags


def render_operation(path: str, method: str, operation: dict) -> str:
    lines = [f"### {operation['operationId']}\n", f"`{method.upper()} {path}`\n"]
    if operation.get("summary"):
        lines.append(f"**{one_line(operation['summary'])}**\n")
    if operation.get("description"):
        lines.append(operation["description"].strip() + "\n")
    security = [name for requirement in operation.get("security", []) for name in requirement]
    lines.append(f"Authentication: {', '.join(f'`{name}`' for name in security) or 'none'}.\n")
    if operation.get("parameters"):
        lines.append(table(("parameter", "in", "required", "type", "description"),
                           [(f"`{p['name']}`", p["in"], "yes" if p.get("required") else "", type_of(p.get("schema", {})),
                             one_line(p.get("description", ""))) for p in operation["parameters"]]))
    body = operation.get("requestBody", {}).get("content", {})
    for media, content in body.items():
        lines.append(f"Request body (`{media}`): {type_of(content.get('schema', {}))}\n")
        if "example" in content:
            lines.append(f"```json\n{json.dumps(content['example'], indent=2)}\n```\n")
    responses = sorted(operation.get("responses", {}).items())
    lines.append(table(("status", "answer", "headers", "body"),
                       [(status, one_line(answer.get("description", "")),
                         ", ".join(f"`{name}`" for name in answer.get("headers", {})), body_types(answer))
                        for status, answer in responses]))
    return "\n".join(lines)


def render_schema(name: str, schema: dict) -> str:
    required = set(schema.get("required", []))
    rows = [(f"`{field}`", type_of(spec), "yes" if field in required else "", one_line(spec.get("description", "")))
            for field, spec in schema.get("properties", {}).items()]
    intro = f"### {name} {{#{anchor(name)}}}\n\n" + (one_line(schema["description"]) + "\n\n" if schema.get("description") else "")
    return intro + (table(("field", "type", "required", "description"), rows) if rows else type_of(schema) + "\n")


def body_types(answer: dict) -> str:
    return ", ".join(f"{type_of(content.get('schema', {}))} (`{media}`)" for media, content in answer.get("content", {}).items())


def type_of(schema: dict) -> str:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#{anchor(name)})"
    if schema.get("type") == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    for combined in ("allOf", "oneOf", "anyOf"):
        if combined in schema:
            return " or ".join(type_of(part) for part in schema[combined])
    described = schema.get("type", "any")
    if "enum" in schema:
        described += ": " + ", ".join(f"`{value}`" for value in schema["enum"])
    elif "format" in schema:
        described += f" ({schema['format']})"
    return described + (", nullable" if schema.get("nullable") else "")


def anchor(schema_name: str) -> str:
    """Schemas get anchors of their own: a schema named like a tag or an operation must not take its link."""
    return "schema-" + schema_name.lower()


def table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def one_line(text: str) -> str:
    return " ".join(text.split())
