"""``.. api-reference::``: the REST API's reference, made at build time (no network, no
database) from the same OpenAPI document the application serves: the core's operations
and the example plugin's. The document itself is written beside the pages as
``api/openapi.json``."""
from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from mypages.api.document import ApiBuilder, build_document
from mypages.api.endpoints import add_core_operations
from mypages.api.problems import PROBLEM_TYPE, PROBLEMS
from mypages_example_notes.api import add_operations as add_notes_operations


def api_document() -> dict:
    builder = ApiBuilder()
    add_core_operations(builder)
    builder.owner = "notes"
    add_notes_operations(builder)
    return build_document(builder)


def _schema(schema) -> str:
    return json.dumps(schema, ensure_ascii=False)


def reference_lines(document: dict) -> list[str]:
    lines = ["Scopes", "------", ""]
    for scope, text in document["x-mypages-scopes"].items():
        lines += [f"``{scope}``", f"   {text}", ""]
    lines += ["Operations", "----------", ""]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            title = f"{method.upper()} /api/v1{path}"
            lines += [title, "~" * len(title), "", operation["summary"], ""]
            lines += [f"* operation id: ``{operation['operationId']}``",
                      f"* scope: ``{operation['x-mypages-scope']}``"]
            if "x-mypages-module" in operation:
                lines.append(f"* module: ``{operation['x-mypages-module']}``")
            for parameter in operation.get("parameters", []):
                lines.append(f"* {parameter['in']} parameter ``{parameter['name']}``: "
                             f"``{_schema(parameter['schema'])}``")
            if "requestBody" in operation:
                body = operation["requestBody"]["content"]["application/json"]["schema"]
                lines.append(f"* JSON body: ``{_schema(body)}``")
            lines.append("* answers: " + ", ".join(f"``{status}``"
                                                   for status in operation["responses"]))
            lines.append("")
    lines += ["Schemas", "-------", ""]
    for name, schema in document["components"]["schemas"].items():
        lines += [name, "~" * len(name), "", ".. code-block:: json", ""]
        lines += ["   " + line for line in json.dumps(schema, indent=2).splitlines()]
        lines.append("")
    lines += ["Problems", "--------", "", ".. list-table::", "   :header-rows: 1", "",
              "   * - type", "     - status", "     - title (English)"]
    for code, (status, title) in PROBLEMS.items():
        lines += [f"   * - ``{PROBLEM_TYPE}{code}``", f"     - {status}", f"     - {title}"]
    lines.append("")
    return lines


class ApiReference(SphinxDirective):
    def run(self):
        holder = nodes.section()
        holder.document = self.state.document
        nested_parse_with_titles(self.state, StringList(reference_lines(api_document()),
                                                        source="api-reference"), holder)
        return holder.children


def write_document(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "api" / "openapi.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(api_document(), indent=1, ensure_ascii=False))


def setup(app):
    app.add_directive("api-reference", ApiReference)
    app.connect("build-finished", write_document)
    return {"parallel_read_safe": True}
