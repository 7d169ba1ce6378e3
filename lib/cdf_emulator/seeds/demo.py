"""The ``demo`` seed: an industrial model ``Plant`` (version ``v1``) in space ``demo_model``.

Views: ``Describable`` (an interface the others implement), ``Site``, ``Asset``, ``Equipment``,
``WorkOrder``, and two edge-only views, ``WorkOrderAssetLink`` (edge properties of ``WorkOrder.assets``)
and ``Flow`` (edge properties of ``Equipment.connectsTo``). Together they use every property type:
text, int32, int64, float32, float64, boolean, timestamp, date, json, enum, direct relations,
timeseries/file/sequence references, lists of most of these, plus single and multi edge connections and
reverse direct relations. The instances (see :mod:`cdf_emulator.seeds.demo_instances`) live in the
instance spaces ``plant_north`` and ``plant_south``.
"""

from __future__ import annotations

from typing import Any

from cdf_emulator.seeds import demo_instances
from cdf_emulator.seeds._build import (
    apply_instances,
    container,
    cprop,
    edge_connection,
    mapped,
    reverse_relation,
    view_ref,
)
from cdf_emulator.seeds.demo_instances import (
    ASSET,
    CONNECTS_TO,
    EQUIPMENT,
    FLOW,
    SITE,
    SPACE,
    VERSION,
    WORK_ORDER,
    WORK_ORDER_ASSETS,
    WORK_ORDER_LINK,
    WORK_ORDER_PRIMARY,
)

MODEL = "Plant"
INSTANCE_SPACES = ("plant_north", "plant_south")
DESCRIBABLE = view_ref(SPACE, "Describable", VERSION)

ASSET_STATUS = {
    "operational": {"name": "Operational"},
    "maintenance": {"name": "In maintenance", "description": "Temporarily out of service"},
    "decommissioned": {"name": "Decommissioned"},
    "unknown": {},
}
WORK_ORDER_STATUS = {"open": {"name": "Open"}, "inProgress": {"name": "In progress"}, "done": {"name": "Done"}}

CONTAINERS: dict[str, dict[str, Any]] = {
    "Describable": {
        "name": cprop("text", nullable=False),
        "description": cprop("text"),
        "tags": cprop("text", is_list=True, maxListSize=100),
        "aliases": cprop("text", is_list=True),
    },
    "SiteData": {
        "code": cprop("text", nullable=False),
        "latitude": cprop("float64"),
        "longitude": cprop("float64"),
        "commissioned": cprop("date"),
        "location": cprop("json"),
    },
    "AssetData": {
        "parent": cprop("direct"),
        "site": cprop("direct"),
        "status": cprop("enum", values=ASSET_STATUS, unknownValue="unknown"),
        "criticality": cprop("int32"),
        "installedAt": cprop("timestamp"),
        "serialNumber": cprop("text"),
        "isCritical": cprop("boolean"),
        "measurements": cprop("timeseries", is_list=True),
        "documents": cprop("file", is_list=True),
    },
    "EquipmentData": {
        "asset": cprop("direct"),
        "manufacturer": cprop("text"),
        "model": cprop("text"),
        "installedDate": cprop("date"),
        "ratedPowerKw": cprop("float32"),
        "ratedVoltage": cprop("float64"),
        "weightKg": cprop("float64"),
        "serialNo": cprop("int64"),
        "runningHours": cprop("int64"),
        "inService": cprop("boolean"),
        "spec": cprop("json"),
        "timeseries": cprop("timeseries"),
        "timeseriesList": cprop("timeseries", is_list=True),
        "datasheet": cprop("file"),
        "logbook": cprop("sequence"),
        "ratings": cprop("int32", is_list=True),
        "temperatures": cprop("float32", is_list=True),
        "readings": cprop("float64", is_list=True),
        "counters": cprop("int64", is_list=True),
        "checkDates": cprop("date", is_list=True),
        "eventTimes": cprop("timestamp", is_list=True),
        "flags": cprop("boolean", is_list=True),
        "settings": cprop("json", is_list=True),
        "relatedEquipment": cprop("direct", is_list=True),
        "sequences": cprop("sequence", is_list=True),
    },
    "WorkOrderData": {
        "title": cprop("text", nullable=False),
        "priority": cprop("int32"),
        "due": cprop("timestamp"),
        "completed": cprop("boolean"),
        "details": cprop("json"),
        "status": cprop("enum", values=WORK_ORDER_STATUS),
        "estimatedHours": cprop("float64"),
        "assignee": cprop("text"),
    },
}
EDGE_CONTAINERS: dict[str, dict[str, Any]] = {
    "WorkOrderAssetLinkData": {"role": cprop("text"), "sequence": cprop("int32"), "linkedAt": cprop("timestamp")},
    "FlowData": {"diameterMm": cprop("float32"), "medium": cprop("text"), "lengthM": cprop("float64")},
}


def _all(container_xid: str, props: dict[str, Any], **sources: dict[str, str]) -> dict[str, Any]:
    """Map every property of a container, with a ``source`` view for the direct relations named."""
    return {pid: mapped(SPACE, container_xid, pid, sources.get(pid)) for pid in props}


def _view(xid: str, properties: dict[str, Any], implements: bool = True, **extra: Any) -> dict[str, Any]:
    view: dict[str, Any] = {"space": SPACE, "externalId": xid, "version": VERSION, "properties": properties}
    if implements:
        view["implements"] = [DESCRIBABLE]
    view.update(extra)
    return view


def views() -> list[dict[str, Any]]:
    """Every view of the model, as ``ViewCreateDefinition`` items."""
    c = CONTAINERS
    site = _all("SiteData", c["SiteData"]) | {"assets": reverse_relation(ASSET, "site")}
    asset = _all("AssetData", c["AssetData"], parent=ASSET, site=SITE) | {
        "children": reverse_relation(ASSET, "parent"),
        "equipment": reverse_relation(EQUIPMENT, "asset"),
        "workOrders": edge_connection(WORK_ORDER_ASSETS, WORK_ORDER, direction="inwards", edge_source=WORK_ORDER_LINK),
    }
    equipment = _all("EquipmentData", c["EquipmentData"], asset=ASSET, relatedEquipment=EQUIPMENT) | {
        "connectsTo": edge_connection(CONNECTS_TO, EQUIPMENT, edge_source=FLOW),
    }
    work_order = _all("WorkOrderData", c["WorkOrderData"]) | {
        "assets": edge_connection(WORK_ORDER_ASSETS, ASSET, edge_source=WORK_ORDER_LINK),
        "primaryAsset": edge_connection(WORK_ORDER_PRIMARY, ASSET, single=True),
    }
    return [
        _view("Describable", _all("Describable", c["Describable"]), implements=False, name="Describable"),
        _view("Site", site, description="A production site"),
        _view("Asset", asset),
        _view("Equipment", equipment),
        _view("WorkOrder", work_order),
        _view("WorkOrderAssetLink", _all("WorkOrderAssetLinkData", EDGE_CONTAINERS["WorkOrderAssetLinkData"]), False),
        _view("Flow", _all("FlowData", EDGE_CONTAINERS["FlowData"]), False),
    ]


def schema_items() -> dict[str, list[dict[str, Any]]]:
    """Spaces, containers, views and the data model, as API request items."""
    spaces = [{"space": SPACE, "name": "Demo plant model"}]
    spaces += [{"space": space, "description": f"Instances of {space}"} for space in INSTANCE_SPACES]
    containers = [container(SPACE, xid, props) for xid, props in CONTAINERS.items()]
    containers += [container(SPACE, xid, props, used_for="edge") for xid, props in EDGE_CONTAINERS.items()]
    all_views = views()
    refs = [view_ref(SPACE, view["externalId"], VERSION) for view in all_views]
    model = {"space": SPACE, "externalId": MODEL, "version": VERSION, "name": "Plant", "views": refs}
    return {"spaces": spaces, "containers": containers, "views": all_views, "data_models": [model]}


def load(state: Any) -> None:
    """Write the Plant model and its instances into ``state``."""
    schema = schema_items()
    state.schema.apply_spaces(schema["spaces"])
    state.schema.apply_containers(schema["containers"])
    state.schema.apply_views(schema["views"])
    state.schema.apply_data_models(schema["data_models"])
    apply_instances(state, demo_instances.instance_items(INSTANCE_SPACES))
