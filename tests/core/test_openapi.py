"""Defect 9 of issue 11 (OpenAPI): unique component names, and every reference resolves."""

import json
import re
from unittest import mock

import pytest
from ninja.openapi.schema import OpenAPISchema, get_schema

from kefu.api import api


def _openapi_with_conflicts() -> tuple[dict, dict[str, int]]:
    """The API's OpenAPI document, and each component name that two different shapes claimed.

    django-ninja keeps components in one dict keyed by class name: a second model of the same
    name silently replaces the first, so one of the two operations documents the wrong shape."""
    conflicts: dict[str, int] = {}
    original = OpenAPISchema.add_schema_definitions

    def add(self, definitions):
        for name, shape in definitions.items():
            if name in self.schemas and self.schemas[name] != shape:
                conflicts[name] = conflicts.get(name, 0) + 1
        original(self, definitions)

    with mock.patch.object(OpenAPISchema, "add_schema_definitions", add):
        doc = get_schema(api)
    return doc, conflicts


def test_component_names_are_unique():
    _doc, conflicts = _openapi_with_conflicts()
    assert conflicts == {}


def test_every_reference_resolves():
    doc = api.get_openapi_schema()
    text = json.dumps(doc)
    assert "#/$defs/" not in text
    components = doc["components"]["schemas"]
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components, ref


def test_batch_bodies_describe_their_items():
    doc = api.get_openapi_schema()
    body = doc["paths"]["/api/v1/messages"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    one, batch = body["oneOf"]
    assert "message_id" in one["properties"]
    assert "message_id" in batch["properties"]["messages"]["items"]["properties"]


def _validate(path: str, response) -> None:
    """Raises unless the response matches what the OpenAPI document says GET `path` returns."""
    import requests
    import schemathesis

    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    request = requests.Request(method="GET", url=f"http://testserver{path}").prepare()
    schema[path]["GET"].validate_response(schemathesis.Response(
        status_code=response.status_code, headers={k: [v] for k, v in response.headers.items()},
        content=response.content, request=request, elapsed=0.0, verify=False,
    ))


@pytest.mark.parametrize("path", [
    # Each of these had a namesake of another shape that replaced its component.
    "/api/v1/shop/settings", "/api/v1/shipping/settings", "/api/v1/rules", "/api/v1/grade-rules",
    "/api/v1/defects/rule", "/api/v1/qa/cases",
])
def test_responses_match_their_documented_schema(manager_client, shop, path):
    r = manager_client.get(path, {"shop": shop.code})
    assert r.status_code == 200, r.content
    _validate(path, r)
