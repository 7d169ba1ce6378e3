"""The response validator itself: it must pass what CDF sends and catch what breaks the document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cdf_emulator.routing import Response
from tests.openapi_spec import SPEC_ENV, SpecNotFoundError, load_index, locate_spec
from tests.openapi_validator import ResponseValidator, find_problems

PROJECT = "/api/v1/projects/p"


def _node(external_id: str = "n1", **properties: Any) -> dict[str, Any]:
    node: dict[str, Any] = {
        "instanceType": "node",
        "space": "sp",
        "externalId": external_id,
        "version": 2,
        "createdTime": 1_700_000_000_000,
        "lastUpdatedTime": 1_700_000_000_001,
    }
    if properties:
        node["properties"] = {"sp": {"Movie/v1": properties}}
    return node


def _sync_body(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"items": {"movies": list(nodes)}, "nextCursor": {"movies": "cursor-1"}}


def _problems(method: str, path: str, response: Response) -> list[str]:
    return find_problems(load_index(), method, path, response)


def _enum_container(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "space": "sp",
        "externalId": "Movie",
        "usedFor": "node",
        "isGlobal": False,
        "createdTime": 1,
        "lastUpdatedTime": 2,
        "properties": {
            "genre": {
                "nullable": True,
                "autoIncrement": False,
                "immutable": False,
                "constraintState": {},
                "type": {"type": "enum", "values": values},
            }
        },
        "constraints": {},
        "indexes": {},
    }


def test_valid_sync_page_passes() -> None:
    body = _sync_body(_node(title="Alien", year=1979), {**_node("gone"), "deletedTime": 1_700_000_000_002})
    assert _problems("POST", f"{PROJECT}/models/instances/sync", Response(body=body)) == []


def test_missing_required_field_is_named_with_its_json_path() -> None:
    body = _sync_body(_node())
    del body["nextCursor"]
    problems = _problems("POST", f"{PROJECT}/models/instances/sync", Response(body=body))
    assert problems == ["$: 'nextCursor' is a required property"]


def test_wrong_type_fails_with_the_failing_path() -> None:
    body = {"items": [{"space": "sp", "createdTime": "yesterday", "lastUpdatedTime": 1, "isGlobal": False}]}
    problems = _problems("POST", f"{PROJECT}/models/spaces", Response(body=body))
    assert problems == ["$.items[0].createdTime: 'yesterday' is not of type 'integer'"]


def test_violation_names_method_path_and_status() -> None:
    validator = ResponseValidator()
    path = f"{PROJECT}/models/spaces"
    validator.check("post", path, Response(body={"items": [{"space": "sp"}]}))
    assert validator.violations
    assert all(violation.startswith(f"POST {path} -> 200: $.items[0]: ") for violation in validator.violations)
    assert validator.checked == 1


def test_undocumented_path_fails() -> None:
    problems = _problems("GET", f"{PROJECT}/models/teapots", Response(body={"items": []}))
    assert problems == ["undocumented operation: the document has no GET for this path"]


def test_undocumented_method_fails() -> None:
    problems = _problems("DELETE", f"{PROJECT}/models/spaces", Response(body={}))
    assert problems == ["undocumented operation: the document has no DELETE for this path"]


def test_undocumented_success_status_fails() -> None:
    problems = _problems("POST", f"{PROJECT}/raw/dbs", Response(status=200, body={"items": [{"name": "db"}]}))
    assert problems == ["status 200 is not documented for POST /api/v1/projects/{project}/raw/dbs"]


def test_literal_path_segments_win_over_templates() -> None:
    ok = {"items": [{"key": "k", "columns": {}, "lastUpdatedTime": 1}]}
    assert _problems("GET", f"{PROJECT}/raw/dbs/d/tables/t/rows", Response(body=ok)) == []
    row = {"key": "k", "columns": {"a": 1}, "lastUpdatedTime": 1}
    assert _problems("GET", f"{PROJECT}/raw/dbs/d%2Fx/tables/t/rows/k%20y", Response(body=row)) == []


def test_token_inspect_uses_its_own_server_base() -> None:
    body = {"subject": "s", "projects": [{"projectUrlName": "p", "groups": []}], "capabilities": []}
    assert _problems("GET", "/api/v1/token/inspect", Response(body=body)) == []
    assert _problems("GET", "/api/v1/token/inspect", Response(body={"subject": "s"})) != []


def test_error_needs_cdf_envelope_on_any_path() -> None:
    good = {"error": {"code": 404, "message": "Not found"}}
    assert _problems("GET", f"{PROJECT}/models/teapots", Response(status=404, body=good)) == []
    assert _problems("GET", "/nowhere", Response(status=405, body={"error": {"code": 405, "message": "no"}})) == []
    problems = _problems("POST", f"{PROJECT}/models/spaces", Response(status=400, body={"message": "bad"}))
    assert problems == ["$: 'error' is a required property"]
    problems = _problems("POST", f"{PROJECT}/models/spaces", Response(status=500, body={"error": {"code": 500}}))
    assert problems == ["$.error: 'message' is a required property"]


def test_documented_error_schema_checks_shapes_not_case_specific_fields() -> None:
    path = f"{PROJECT}/timeseries/data/list"
    plain = {"error": {"code": 400, "message": "limit too large"}}
    assert _problems("POST", path, Response(status=400, body=plain)) == []
    bad_missing = {"error": {"code": 400, "message": "not found", "missing": [{"nonsense": 1}]}}
    assert _problems("POST", path, Response(status=400, body=bad_missing)) != []
    good_missing = {"error": {"code": 400, "message": "not found", "missing": [{"externalId": "ts"}]}}
    assert _problems("POST", path, Response(status=400, body=good_missing)) == []


def test_error_body_must_be_json() -> None:
    response = Response(status=500, body=b"<html>oops</html>", content_type="text/html")
    assert _problems("GET", f"{PROJECT}/models/spaces", response) == [
        "an error body must be JSON, got content type 'text/html'"
    ]


def test_json_bytes_are_parsed_and_non_json_types_checked_against_the_document() -> None:
    path = f"{PROJECT}/timeseries/data/list"
    assert _problems("POST", path, Response(body=b"\x0a\x02", content_type="application/protobuf")) == []
    assert _problems("POST", path, Response(body=b"x", content_type="text/plain")) == [
        "content type 'text/plain' is not documented (documented: ['application/json', 'application/protobuf'])"
    ]
    spaces = b'{"items":[{"space":"sp","createdTime":1,"lastUpdatedTime":1,"isGlobal":false}]}'
    assert _problems("GET", f"{PROJECT}/models/spaces", Response(body=spaces)) == []
    assert _problems("GET", f"{PROJECT}/models/spaces", Response(body=b"{not json")) != []


def test_admin_endpoints_are_skipped_and_oauth_is_checked_separately() -> None:
    assert _problems("POST", "/_emulator/faults/clear", Response(body={"anything": True})) == []
    token = {"access_token": "t", "expires_in": 3600, "token_type": "Bearer"}
    assert _problems("POST", "/oauth2/token", Response(body=token)) == []
    assert _problems("POST", "/oauth2/token", Response(body={"access_token": "t"})) == [
        "$: 'expires_in' is a required property"
    ]
    oauth_error = {"error": "unsupported_grant_type", "error_description": "no"}
    assert _problems("POST", "/oauth2/token", Response(status=400, body=oauth_error)) == []
    assert _problems("POST", "/oauth2/token", Response(status=400, body={"error": "nope"})) != []


@pytest.mark.parametrize("external_id", ["back\\slash", "x0", "\\x00", 'quote"d', "ø" * 256])
def test_corrected_external_id_accepts_what_cdf_sends(external_id: str) -> None:
    body = _sync_body(_node(external_id))
    assert _problems("POST", f"{PROJECT}/models/instances/sync", Response(body=body)) == []


@pytest.mark.parametrize("external_id", ["", "nul\x00byte", "x" * 257])
def test_corrected_external_id_still_rejects_what_cdf_forbids(external_id: str) -> None:
    body = _sync_body(_node(external_id))
    assert _problems("POST", f"{PROJECT}/models/instances/sync", Response(body=body)) != []


@pytest.mark.parametrize(
    "value",
    [
        {"nested": {"list": [1, "two", None]}},
        {"space": "sp", "externalId": "other"},
        [{"space": "sp", "externalId": "a"}, {"space": "sp", "externalId": "b"}],
        [{"json": True}],
        [],
        None,
        "text",
        3.5,
        [True, False],
    ],
)
def test_corrected_property_value_accepts_json_relations_empty_lists_and_null(value: Any) -> None:
    body = _sync_body(_node(prop=value))
    assert _problems("POST", f"{PROJECT}/models/instances/sync", Response(body=body)) == []


def test_corrected_enum_accepts_an_empty_value_object() -> None:
    body = {"items": [_enum_container({"drama": {}, "comedy": {"name": "Comedy"}})]}
    assert _problems("POST", f"{PROJECT}/models/containers/byids", Response(body=body)) == []


def test_corrected_enum_still_bounds_the_number_of_values() -> None:
    body = {"items": [_enum_container({})]}
    problems = _problems("POST", f"{PROJECT}/models/containers/byids", Response(body=body))
    assert problems and "should be non-empty" in " ".join(problems)


def test_corrected_datapoints_accept_a_raw_numeric_series() -> None:
    item = {
        "id": 1,
        "isString": False,
        "type": "numeric",
        "isStep": False,
        "datapoints": [{"timestamp": 1, "value": 2}],
    }
    response = Response(body={"items": [item]})
    assert _problems("POST", f"{PROJECT}/timeseries/data/list", response) == []
    broken = Response(body={"items": [{**item, "datapoints": [{"value": 2}]}]})
    assert _problems("POST", f"{PROJECT}/timeseries/data/list", broken) != []


def test_openapi_3_0_nullable_allows_null_only_where_marked() -> None:
    config = {"externalId": "pipe", "revision": 1, "createdTime": 1, "config": "a: 1", "description": None}
    assert _problems("GET", f"{PROJECT}/extpipes/config", Response(body=config)) == []
    assert _problems("GET", f"{PROJECT}/extpipes/config", Response(body={**config, "revision": None})) != []


def test_every_schema_pattern_compiles_after_correction() -> None:
    index = load_index()
    patterns = list(_patterns(index.document))
    assert len(patterns) > 40
    for pattern in patterns:
        re.compile(pattern)
    validator = index.validator("/components/schemas/UserPreferencesTimezoneField")
    assert validator.is_valid("GMT+02:00")
    assert not validator.is_valid("GMT 2")


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def test_validator_never_raises_from_the_hook() -> None:
    validator = ResponseValidator()
    validator.check("GET", f"{PROJECT}/models/spaces", object())
    assert len(validator.violations) == 1
    assert "validator crashed" in validator.violations[0]


def test_missing_document_fails_loudly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV, str(tmp_path / "absent.json"))
    with pytest.raises(SpecNotFoundError, match=r"absent\.json"):
        locate_spec()


def test_env_override_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    copy = tmp_path / "spec.json"
    copy.write_text("{}")
    monkeypatch.setenv(SPEC_ENV, str(copy))
    assert locate_spec() == copy
