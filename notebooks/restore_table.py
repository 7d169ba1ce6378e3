# Databricks notebook source
# MAGIC %md
# MAGIC # Restore a table to an earlier version
# MAGIC
# MAGIC Runs Delta `RESTORE TABLE ... TO VERSION AS OF <version>` on one view's nodes or edges table and forgets
# MAGIC the table's cursor, so the next replicate run resyncs it with CDF: rows changed since are updated again and
# MAGIC rows CDF no longer has are deleted. Pause the view's scheduled job while restoring, and look at the
# MAGIC history (the `inspect_state` notebook, or the first cell's output below) to pick the version.
# MAGIC
# MAGIC | parameter | meaning |
# MAGIC |---|---|
# MAGIC | `config` | the replicator config: a workspace path, `dbfs:/...`, `s3://...` |
# MAGIC | `view` | `space/model/version/view` |
# MAGIC | `kind` | `nodes` or `edges` |
# MAGIC | `version` | the Delta version to restore |
# MAGIC
# MAGIC Needs the cdf-replicator wheel on the cluster. Off Databricks, the parameters come from
# MAGIC `CDF_REPLICATOR_CONFIG`, `CDF_REPLICATOR_VIEW`, `CDF_REPLICATOR_KIND` and `CDF_REPLICATOR_VERSION`.

# COMMAND ----------

from cdf_replicator.operations import open_operations, restore_table
from cdf_replicator.operations_report import format_restore, history_report
from cdf_replicator.widgets import parse_int, read_parameters, require

defaults = {"config": "conf/demo.yaml", "view": "", "kind": "nodes", "version": ""}
params = read_parameters(globals().get("dbutils"), defaults)
version = parse_int("version", require("version", params["version"]))
ops = open_operations(require("config", params["config"]))
target = ops.target(require("view", params["view"]), params["kind"])
print(history_report(ops.spark, [target], 20))

# COMMAND ----------

print(format_restore(restore_table(ops.spark, ops.store, target, version)))
