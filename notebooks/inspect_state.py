# Databricks notebook source
# MAGIC %md
# MAGIC # Inspect state and table history
# MAGIC
# MAGIC Shows, for every replicated table, its saved cursor state (state key, cursor, the Delta version the cursor's
# MAGIC rows are in, whether a resync is in progress) next to the table's current version, then each table's recent
# MAGIC Delta history: version, time, operation and its metrics (rows inserted, updated, deleted). Reads only.
# MAGIC
# MAGIC | parameter | meaning |
# MAGIC |---|---|
# MAGIC | `config` | the replicator config: a workspace path, `dbfs:/...`, `s3://...` |
# MAGIC | `view` | empty for every configured view, else `space/model/version/view`, several separated by commas |
# MAGIC | `history` | how many commits of each table to show |
# MAGIC
# MAGIC Needs the cdf-replicator wheel on the cluster. Off Databricks, the parameters come from
# MAGIC `CDF_REPLICATOR_CONFIG`, `CDF_REPLICATOR_VIEW` and `CDF_REPLICATOR_HISTORY`.

# COMMAND ----------

from cdf_replicator.operations import open_operations
from cdf_replicator.operations_report import history_report, state_report
from cdf_replicator.widgets import parse_int, read_parameters, require, split_list

params = read_parameters(globals().get("dbutils"), {"config": "conf/demo.yaml", "view": "", "history": "10"})
views = split_list(params["view"])
history = parse_int("history", params["history"], minimum=1)
ops = open_operations(require("config", params["config"]))
targets = ops.targets(views)

# COMMAND ----------

print(state_report(ops, targets, list_unused_keys=not views))

# COMMAND ----------

print(history_report(ops.spark, targets, history))
