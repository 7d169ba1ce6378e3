"""``cdf-replicator demo``: the whole product on a laptop, against the bundled CDF emulator.

Starts the emulator with the ``demo`` seed, replicates and publishes with ``conf/demo.yaml``, changes data in the
emulator the way users change CDF (updates, deletes, a new view property), runs again and prints what happened.
"""

from __future__ import annotations

import logging
import os
import sys
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
    from cdf_replicator.commands import open_session
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
        print("\n== Run 1: initial load (backfill), then publish")
        code = _cycle(config, spark, client, store, resolve_targets(config, client))
        print("\n== Changing CDF through the SDK")
        print(change_demo_data(emulator.client()))
        print("\n== Run 2: incremental sync, then publish")
        code = max(code, _cycle(config, spark, client, store, resolve_targets(config, client)))
        _print_next_steps(config)
    return code


def _cycle(config: Config, spark: Any, client: Any, store: Any, targets: list[Any]) -> int:
    from cdf_replicator.pipeline import replicate, sync_settings
    from cdf_replicator.publish_run import publish_all
    from cdf_replicator.report import terminal_progress

    progress = terminal_progress(sys.stderr) if sys.stderr.isatty() else None
    summary = replicate(spark, client, store, targets, sync_settings(config), config.extractor.workers, progress)
    published = publish_all(spark, config, targets)
    print(format_demo_summary(summary.results, [o for result in published for o in result.outcomes]))
    failed = summary.failed or any(result.failed for result in published)
    return 1 if failed else 0


def format_demo_summary(results: list[Any], outcomes: list[Any]) -> str:
    """Per table: rows in the published file, upserts, deletes, seconds (replicate + publish), the file."""
    by_file = {outcome.target.publish_uri: outcome for outcome in outcomes}
    rows = [("view", "rows", "upserts", "deletes", "seconds", "output")]
    for result in results:
        target = result.target
        outcome = by_file.get(target.publish_path)
        seconds = result.duration_s + (outcome.duration_s if outcome else 0.0)
        if result.failed or outcome is None or outcome.status == "failed":
            output = f"FAILED: {result.error or (outcome.error if outcome else 'not published')}"
        else:
            output = target.publish_path.removeprefix("file:")
        rows.append(
            (
                target.label,
                "-" if outcome is None or outcome.rows is None else str(outcome.rows),
                str(result.upserted),
                str(result.deleted + result.reconciled),
                f"{seconds:.1f}",
                output,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(row, widths, strict=False)), row[5]]) for row in rows)


def change_demo_data(client: Any) -> str:
    """Mutate the demo model through the real SDK; returns what changed, in one line.

    The new Site property goes into the Site view's existing container: a view's ``hasData`` needs data in every
    container it maps, so a new container would hide every existing site until it had data there.
    """
    from cognite.client import data_modeling as dm

    site_view = dm.ViewId(DEMO_SPACE, "Site", DEMO_VERSION)
    site_data = dm.ContainerId(DEMO_SPACE, "SiteData")
    container = client.data_modeling.containers.retrieve([site_data])[0].as_write()
    container.properties[NEW_PROPERTY] = dm.ContainerPropertyApply(type=dm.Text())
    client.data_modeling.containers.apply(container)
    site = client.data_modeling.views.retrieve(site_view, include_inherited_properties=False)[0].as_write()
    site.properties = dict(site.properties or {})
    site.properties[NEW_PROPERTY] = dm.MappedPropertyApply(site_data, NEW_PROPERTY)
    client.data_modeling.views.apply(site)
    sites = client.data_modeling.instances.list(instance_type="node", sources=[site_view], limit=None)
    window = {NEW_PROPERTY: "Sun 02:00-04:00 UTC"}
    client.data_modeling.instances.apply(
        [dm.NodeApply(n.space, n.external_id, sources=[dm.NodeOrEdgeData(site_view, window)]) for n in sites]
    )
    asset_view = dm.ViewId(DEMO_SPACE, "Asset", DEMO_VERSION)
    assets = client.data_modeling.instances.list(instance_type="node", sources=[asset_view], limit=10)
    renamed = [
        dm.NodeApply(n.space, n.external_id, sources=[dm.NodeOrEdgeData(asset_view, {"serialNumber": f"SN-{i:04d}-B"})])
        for i, n in enumerate(assets)
    ]
    client.data_modeling.instances.apply(renamed)
    order_view = dm.ViewId(DEMO_SPACE, "WorkOrder", DEMO_VERSION)
    orders = client.data_modeling.instances.list(instance_type="node", sources=[order_view], limit=5)
    client.data_modeling.instances.delete(nodes=[(n.space, n.external_id) for n in orders])
    return (
        f"new Site property '{NEW_PROPERTY}' set on {len(sites)} sites; {len(renamed)} assets get a new serial "
        f"number; {len(orders)} work orders deleted (with their edges)"
    )


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
