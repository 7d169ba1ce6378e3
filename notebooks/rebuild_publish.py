# Databricks notebook source
# MAGIC %md
# MAGIC # Rebuild the publish files
# MAGIC
# MAGIC Writes the deduplicated Parquet snapshots again from the current state of the Delta tables, and their
# MAGIC manifest entries. Unlike the scheduled `publish` step, which skips a file whose table has not changed since
# MAGIC the manifest recorded it, `force` rewrites every file: the way to replace a file that was deleted, damaged or
# MAGIC written by an older release.
# MAGIC
# MAGIC | parameter | meaning |
# MAGIC |---|---|
# MAGIC | `config` | the replicator config: a workspace path, `dbfs:/...`, `s3://...` |
# MAGIC | `view` | empty for every configured view, else `space/model/version/view`, several separated by commas |
# MAGIC | `force` | `true` (default) rewrites every file; `false` only those whose table changed |
# MAGIC
# MAGIC Needs the cdf-replicator wheel on the cluster. Off Databricks, the parameters come from
# MAGIC `CDF_REPLICATOR_CONFIG`, `CDF_REPLICATOR_VIEW` and `CDF_REPLICATOR_FORCE`.

# COMMAND ----------

from cdf_replicator.operations import open_operations, rebuild_publish
from cdf_replicator.operations_report import format_publish
from cdf_replicator.widgets import parse_flag, read_parameters, require, split_list

params = read_parameters(globals().get("dbutils"), {"config": "conf/demo.yaml", "view": "", "force": "true"})
force = parse_flag("force", params["force"])
ops = open_operations(require("config", params["config"]))
targets = ops.targets(split_list(params["view"]))

# COMMAND ----------

print(format_publish(rebuild_publish(ops, targets, force=force)))
