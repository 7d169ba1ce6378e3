"""Time-series identifiers in requests: exactly one of ``id``, ``externalId`` and ``instanceId``."""

from __future__ import annotations

from typing import Any

from cdf_emulator.bodies import check_fields
from cdf_emulator.errors import ApiError
from cdf_emulator.timeseries_store import identifier_json
from cdf_emulator.validators import integer, string

ID_KEYS = ("id", "externalId", "instanceId")


def parse_identifier(item: dict[str, Any], where: str, allow_instance: bool = True) -> dict[str, Any]:
    """The identifier of one request item, checked; 400 unless exactly one identifier is given."""
    keys = ID_KEYS if allow_instance else ID_KEYS[:2]
    present = [key for key in keys if item.get(key) is not None]
    if len(present) != 1:
        raise ApiError(400, f"'{where}' must have exactly one of {', '.join(keys)}")
    key = present[0]
    value = item[key]
    if key == "id":
        return {"id": integer(1)(value, f"{where}.id")}
    if key == "externalId":
        return {"externalId": string(255, 1)(value, f"{where}.externalId")}
    check_fields(value, ("space", "externalId"), ("space", "externalId"), where=f"{where}.instanceId")
    return {
        "instanceId": {
            "space": string(43, 1)(value["space"], f"{where}.instanceId.space"),
            "externalId": string(255, 1)(value["externalId"], f"{where}.instanceId.externalId"),
        }
    }


def reject_repeats(identifiers: list[dict[str, Any]]) -> None:
    """422 with ``duplicated`` when the same identifier appears twice, as CDF answers for byids and delete."""
    seen: list[dict[str, Any]] = []
    repeated: list[dict[str, Any]] = []
    for identifier in identifiers:
        if identifier in seen and identifier not in repeated:
            repeated.append(identifier)
        seen.append(identifier)
    if repeated:
        raise ApiError(422, "Duplicate identifiers in request", duplicated=[identifier_json(i) for i in repeated])
