"""``cdf-replicator demo``: the whole product on a laptop, against the bundled CDF emulator.

Starts the emulator with the ``demo`` seed, replicates and publishes with ``conf/demo.yaml``, changes data in the
emulator the way users change CDF (updates, deletes, a new view property), runs again and prints what happened.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from cdf_replicator.config import Config
from cdf_replicator.config_source import load_config_from
from cdf_replicator.errors import ConfigError

logger = logging.getLogger(__name__)

DEMO_SPACE = "demo_model"
DEMO_VERSION = "v1"
NEW_PROPERTY = "maintenanceWindow"


def run_demo(config_path: str | None, output: str | None, verbose: bool = False) -> int:
    """Run the demo end to end; returns the exit code."""
    from cdf_emulator import Emulator
    from cdf_replicator.cdf import create_client
    from cdf_replicator.commands import open_session, run_cycle
    from cdf_replicator.pipeline import open_state_store, resolve_targets

    path = config_path or _default_config()
    with Emulator(seed="demo") as emulator:
        os.environ["CDF_EMULATOR_URL"] = emulator.base_url
        os.environ["CDF_EMULATOR_PROJECT"] = emulator.project
        if output:
            os.environ["CDF_REPLICATOR_ROOT"] = str(Path(output).absolute())
        config = load_config_from(path)
        print(f"CDF emulator (seed 'demo') at {emulator.base_url}; output in {config.root_uri}")
        client = create_client(config.cognite)
        spark = open_session(config)
        store = open_state_store(config, spark, client)
        targets = resolve_targets(config, client)
        print("\n== Run 1: initial load (backfill) and publish")
        code = run_cycle(config, spark, client, store, targets)
        print("\n== Changing CDF: 10 sites get a new property, 10 assets updated, 5 work orders deleted")
        change_demo_data(emulator.client())
        targets = resolve_targets(config, client)
        print("\n== Run 2: incremental sync and publish")
        code = max(code, run_cycle(config, spark, client, store, targets))
        _print_next_steps(config)
    return code


def change_demo_data(client: Any) -> None:
    """Mutate the demo model through the real SDK: a new Site property, asset updates, work order deletes."""
    from cognite.client import data_modeling as dm

    site_view = dm.ViewId(DEMO_SPACE, "Site", DEMO_VERSION)
    client.data_modeling.containers.apply(
        dm.ContainerApply(
            DEMO_SPACE, "SiteMaintenance", properties={NEW_PROPERTY: dm.ContainerPropertyApply(type=dm.Text())}
        )
    )
    site = client.data_modeling.views.retrieve(site_view, include_inherited_properties=False)[0].as_write()
    site.properties = dict(site.properties or {})
    site.properties[NEW_PROPERTY] = dm.MappedPropertyApply(dm.ContainerId(DEMO_SPACE, "SiteMaintenance"), NEW_PROPERTY)
    client.data_modeling.views.apply(site)
    sites = client.data_modeling.instances.list(instance_type="node", sources=[site_view], limit=10)
    client.data_modeling.instances.apply(
        [
            dm.NodeApply(
                node.space, node.external_id, sources=[dm.NodeOrEdgeData(site_view, {NEW_PROPERTY: "Sun 02-04 UTC"})]
            )
            for node in sites
        ]
    )
    asset_view = dm.ViewId(DEMO_SPACE, "Asset", DEMO_VERSION)
    assets = client.data_modeling.instances.list(instance_type="node", sources=[asset_view], limit=10)
    client.data_modeling.instances.apply(
        [
            dm.NodeApply(node.space, node.external_id, sources=[dm.NodeOrEdgeData(asset_view, {"criticality": 5})])
            for node in assets
        ]
    )
    order_view = dm.ViewId(DEMO_SPACE, "WorkOrder", DEMO_VERSION)
    orders = client.data_modeling.instances.list(instance_type="node", sources=[order_view], limit=5)
    client.data_modeling.instances.delete(nodes=[(node.space, node.external_id) for node in orders])


def _default_config() -> str:
    for candidate in (Path.cwd() / "conf" / "demo.yaml", Path(__file__).resolve().parents[2] / "conf" / "demo.yaml"):
        if candidate.is_file():
            return str(candidate)
    raise ConfigError("conf/demo.yaml not found: run the demo from the repository folder or pass --config")


def _print_next_steps(config: Config) -> None:
    publish = f"{config.root_uri}/publish/{DEMO_SPACE}/Plant/{DEMO_VERSION}/Asset/nodes.parquet"
    local = publish.removeprefix("file:")
    print("\nLook at the output:")
    print(f"  python -c \"import pyarrow.parquet as pq; print(pq.read_table('{local}').to_pandas().head())\"")
