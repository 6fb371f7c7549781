"""The HTTP API's reference: the OpenAPI 3.1 document (served at /api/v1/openapi.json, to a valid
API key only), rendered endpoint by endpoint from the same code that serves them, so the two
cannot disagree.  The page builds the document in-process, so it needs no key."""

from __future__ import annotations

import streamlit as st

from sms_core.delivery.api.app import openapi_document


def schema_of(document: dict, schema: dict) -> dict:
    """A request body's schema with its ``$ref`` looked up, so the fields show, not a pointer."""
    ref = schema.get("$ref", "")
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


def show_operation(document: dict, method: str, path: str, operation: dict) -> None:
    with st.expander(f"{method.upper()} /api/v1{path} — {operation.get('summary', '')}"):
        if operation.get("description"):
            st.markdown(operation["description"])
        parameters = operation.get("parameters", [])
        if parameters:
            rows = [
                {
                    "Name": p["name"],
                    "In": p["in"],
                    "Required": p.get("required", False),
                    "About": p.get("description", ""),
                }
                for p in parameters
            ]
            st.dataframe(rows, hide_index=True)
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body:
            st.markdown("**Body**")
            st.json(schema_of(document, body), expanded=False)
        answers = ", ".join(
            f"`{code}` {answer.get('description', '')}" for code, answer in operation["responses"].items()
        )
        st.markdown(f"**Answers:** {answers}")


document = openapi_document()
st.title("HTTP API")
st.markdown(document["info"]["description"])  # our own text, written in Markdown
st.caption(
    "The machine-readable document: /api/v1/openapi.json (OpenAPI 3.1), with an API key as "
    "`Authorization: Bearer <key>` like every endpoint."
)
for path, operations in document["paths"].items():
    for method, operation in operations.items():
        show_operation(document, method, path, operation)
with st.expander("Schemas"):
    st.json(document["components"]["schemas"], expanded=False)
