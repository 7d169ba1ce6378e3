# Databricks notebook source
# MAGIC %md
# MAGIC # Reprocess views
# MAGIC
# MAGIC Forgets the cursors of the given views, then replicates them again from the start. With `drop_tables` the
# MAGIC views' Delta tables and publish files are deleted first and rebuilt by a plain backfill; without it the backfill
# MAGIC is a full resync into the existing tables, which also deletes the rows CDF no longer has.
# MAGIC
# MAGIC | parameter | meaning |
# MAGIC |---|---|
# MAGIC | `config` | the replicator config: a workspace path, `dbfs:/...`, `s3://...` |
# MAGIC | `view` | `space/model/version/view`; several separated by commas |
# MAGIC | `drop_tables` | `true` to delete the tables first (needed after an incompatible type change) |
# MAGIC
# MAGIC Needs the cdf-replicator wheel on the cluster. Off Databricks, the parameters come from
# MAGIC `CDF_REPLICATOR_CONFIG`, `CDF_REPLICATOR_VIEW` and `CDF_REPLICATOR_DROP_TABLES`.

# COMMAND ----------

from cdf_replicator.operations import run_cli
from cdf_replicator.widgets import parse_flag, read_parameters, require, split_list

params = read_parameters(globals().get("dbutils"), {"config": "conf/demo.yaml", "view": "", "drop_tables": "false"})
config = require("config", params["config"])
view_args = [arg for view in split_list(require("view", params["view"])) for arg in ("--view", view)]
drop_tables = parse_flag("drop_tables", params["drop_tables"])

# COMMAND ----------

run_cli(["reset-view", "--config", config, *view_args, *(["--drop-tables"] if drop_tables else [])])

# COMMAND ----------

run_cli(["replicate", "--config", config, *view_args])
