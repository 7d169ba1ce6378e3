"""Instances of the ``demo`` seed: per plant space one site, assets, equipment, work orders and edges.

Content is deterministic (``random.Random`` with a fixed seed per plant). Floats stored in float32
properties are multiples of 0.25, so they survive a float32 round trip unchanged; one int64 list holds a
value above 2**53 and some texts are non-ASCII, to exercise precision and encoding paths downstream.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

from cdf_emulator.seeds._build import day, direct, edge, node, timestamp, view_ref

SPACE = "demo_model"
VERSION = "v1"
SITE = view_ref(SPACE, "Site", VERSION)
ASSET = view_ref(SPACE, "Asset", VERSION)
EQUIPMENT = view_ref(SPACE, "Equipment", VERSION)
WORK_ORDER = view_ref(SPACE, "WorkOrder", VERSION)
WORK_ORDER_LINK = view_ref(SPACE, "WorkOrderAssetLink", VERSION)
FLOW = view_ref(SPACE, "Flow", VERSION)
WORK_ORDER_ASSETS = (SPACE, "WorkOrder.assets")
WORK_ORDER_PRIMARY = (SPACE, "WorkOrder.primaryAsset")
CONNECTS_TO = (SPACE, "Equipment.connectsTo")

ASSETS_PER_PLANT = 200
ROOT_ASSETS = 10
EQUIPMENT_PER_PLANT = 500
WORK_ORDERS_PER_PLANT = 300
FLOWS_PER_PLANT = 250
BASE_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc)
MANUFACTURERS = ["ABB", "Siemens", "Grundfos", "Sulzer", "Kongsberg", "Müller & Søn", "Atlas Copco"]
KINDS = ["Pump", "Compressor", "Valve", "Motor", "Heat exchanger", "Separator", "Pumpe Süd Ø200"]
MEDIA = ["water", "oil", "gas", "steam", None]
ROLES = ["inspect", "repair", "replace"]
BIG_INT64 = 2**62 + 7


def _moment(rng: random.Random, days: int = 700) -> datetime:
    return BASE_TIME + timedelta(minutes=rng.randrange(days * 24 * 60), milliseconds=rng.randrange(1000))


def _quarter(rng: random.Random, low: int, high: int) -> float:
    return rng.randrange(low * 4, high * 4) / 4


def _describable(rng: random.Random, name: str) -> dict[str, Any]:
    props: dict[str, Any] = {"name": name, "tags": rng.sample(["critical", "rotating", "static", "hse", "utility"], 2)}
    props["description"] = None if rng.random() < 0.2 else f"{name} ({rng.choice(['north', 'south'])} block)"
    if rng.random() < 0.5:
        props["aliases"] = [name.upper(), name.replace(" ", "_")]
    return props


def _site(plant: str, rng: random.Random) -> dict[str, Any]:
    props = _describable(rng, f"Site {plant}") | {
        "code": plant.upper(),
        "latitude": 60.0 + _quarter(rng, 0, 10),
        "longitude": 5.0 + _quarter(rng, 0, 10),
        "commissioned": day(date(1990 + rng.randrange(30), 1 + rng.randrange(12), 1 + rng.randrange(28))),
        "location": {"country": "NO", "region": plant.split("_")[1], "grid": [rng.randrange(100), rng.randrange(100)]},
    }
    return node(plant, f"{plant}:site", SITE, props)


def _assets(plant: str, rng: random.Random) -> list[dict[str, Any]]:
    items = []
    statuses = ["operational", "operational", "maintenance", "decommissioned", "unknown"]
    for i in range(ASSETS_PER_PLANT):
        props = _describable(rng, f"{rng.choice(KINDS)} system {i}") | {
            "parent": None if i < ROOT_ASSETS else direct(plant, f"{plant}:asset:{rng.randrange(i):04d}"),
            "site": direct(plant, f"{plant}:site"),
            "status": rng.choice(statuses),
            "criticality": rng.randrange(1, 6),
            "installedAt": timestamp(_moment(rng)),
            "serialNumber": None if i % 7 == 0 else f"SN-{rng.randrange(10**6):06d}",
            "isCritical": rng.random() < 0.3,
            "measurements": [
                f"{plant}:ts:asset:{i}:{kind}" for kind in ("pressure", "temperature")[: rng.randrange(3)]
            ],
            "documents": [f"{plant}:doc:asset:{i}"] if i % 3 == 0 else [],
        }
        items.append(node(plant, f"{plant}:asset:{i:04d}", ASSET, props))
    return items


def _equipment(plant: str, rng: random.Random) -> list[dict[str, Any]]:
    items = []
    for i in range(EQUIPMENT_PER_PLANT):
        xid = f"{plant}:equipment:{i:04d}"
        props = _describable(rng, f"{rng.choice(KINDS)} {i}") | {
            "asset": direct(plant, f"{plant}:asset:{rng.randrange(ASSETS_PER_PLANT):04d}"),
            "manufacturer": rng.choice(MANUFACTURERS),
            "model": f"M{rng.randrange(100, 999)}",
            "installedDate": day(_moment(rng).date()),
            "ratedPowerKw": _quarter(rng, 1, 5000),
            "ratedVoltage": rng.choice([230.0, 400.0, 690.0, 11000.0]),
            "weightKg": round(rng.uniform(10, 20000), 3),
            "serialNo": rng.randrange(10**12, 10**15),
            "runningHours": rng.randrange(0, 200000),
            "inService": rng.random() < 0.9,
            "spec": {"ip": f"IP{rng.choice([54, 55, 65, 66])}", "phases": rng.choice([1, 3]), "notes": None},
            "timeseries": f"{plant}:ts:equipment:{i}:power",
            "timeseriesList": [f"{plant}:ts:equipment:{i}:{kind}" for kind in ("vibration", "current")],
            "datasheet": None if i % 5 == 0 else f"{plant}:doc:datasheet:{i}",
            "logbook": f"{plant}:seq:logbook:{i}",
            "ratings": [rng.randrange(1, 100) for _ in range(rng.randrange(4))],
            "temperatures": [_quarter(rng, -20, 120) for _ in range(3)],
            "readings": [round(rng.uniform(0, 1), 6) for _ in range(2)],
            "counters": [BIG_INT64, 1] if i == 0 else [rng.randrange(10**9)],
            "checkDates": [day((BASE_TIME + timedelta(days=30 * k)).date()) for k in range(rng.randrange(1, 4))],
            "eventTimes": [timestamp(_moment(rng)) for _ in range(2)],
            "flags": [rng.random() < 0.5 for _ in range(3)],
            "settings": [{"key": "mode", "value": rng.choice(["auto", "manual"])}],
            "relatedEquipment": [direct(plant, f"{plant}:equipment:{rng.randrange(i):04d}") for _ in range(min(i, 2))],
            "sequences": [f"{plant}:seq:calibration:{i}"] if i % 4 == 0 else [],
        }
        items.append(node(plant, xid, EQUIPMENT, props))
    return items


def _work_orders(plant: str, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    nodes, edges = [], []
    for i in range(WORK_ORDERS_PER_PLANT):
        xid = f"{plant}:workorder:{i:04d}"
        done = rng.random() < 0.4
        props = _describable(rng, f"Work order {i}") | {
            "title": f"{rng.choice(ROLES).title()} {rng.choice(KINDS).lower()}",
            "priority": rng.randrange(1, 5),
            "due": timestamp(_moment(rng)),
            "completed": done,
            "details": {"steps": rng.randrange(1, 10), "permit": rng.random() < 0.5, "checklist": ["lock", "tag"]},
            "status": "done" if done else rng.choice(["open", "inProgress"]),
            "estimatedHours": _quarter(rng, 1, 80),
            "assignee": None if rng.random() < 0.25 else f"tech{rng.randrange(40):02d}",
        }
        nodes.append(node(plant, xid, WORK_ORDER, props))
        targets = rng.sample(range(ASSETS_PER_PLANT), rng.randrange(1, 4))
        for seq, target in enumerate(targets):
            asset = (plant, f"{plant}:asset:{target:04d}")
            link = {"role": rng.choice(ROLES), "sequence": seq, "linkedAt": timestamp(_moment(rng))}
            edge_xid = f"{xid}:assets:{target:04d}"
            edges.append(edge(plant, edge_xid, WORK_ORDER_ASSETS, (plant, xid), asset, WORK_ORDER_LINK, link))
        primary = (plant, f"{plant}:asset:{targets[0]:04d}")
        edges.append(edge(plant, f"{xid}:primary", WORK_ORDER_PRIMARY, (plant, xid), primary))
    return nodes, edges


def _flows(plant: str, rng: random.Random) -> list[dict[str, Any]]:
    edges = []
    for i in range(FLOWS_PER_PLANT):
        start, end = rng.sample(range(EQUIPMENT_PER_PLANT), 2)
        props = {
            "diameterMm": _quarter(rng, 10, 600),
            "medium": rng.choice(MEDIA),
            "lengthM": round(rng.uniform(1, 500), 2),
        }
        start_node = (plant, f"{plant}:equipment:{start:04d}")
        end_node = (plant, f"{plant}:equipment:{end:04d}")
        edges.append(edge(plant, f"{plant}:flow:{i:04d}", CONNECTS_TO, start_node, end_node, FLOW, props))
    return edges


def instance_items(plants: tuple[str, ...]) -> list[dict[str, Any]]:
    """Every node of every plant, then every edge (edges need their end nodes to exist)."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for index, plant in enumerate(plants):
        rng = random.Random(7919 + index)
        nodes.append(_site(plant, rng))
        nodes.extend(_assets(plant, rng))
        nodes.extend(_equipment(plant, rng))
        work_orders, links = _work_orders(plant, rng)
        nodes.extend(work_orders)
        edges.extend(links)
        edges.extend(_flows(plant, rng))
    return nodes + edges
