#!/usr/bin/env bash
# cdf-replicator on EMR on EC2: the spark-submit command of the EMR step (conf/emr/step.json runs exactly these
# arguments through command-runner.jar). Run it on the primary node, or add the step (docs/deploy.md).
#
# - EMR 7.x (Spark 3.5, Scala 2.12). EMR 7 ships hadoop-aws and the S3A connector, so only Delta Lake comes
#   through --packages (the cluster needs to reach Maven Central, or a mirror set with spark.jars.repositories).
#   Leave EMR's own Delta (the delta-defaults classification) off: two Delta versions on one classpath conflict.
# - The wheel's dependencies and Python 3.11 come from the bootstrap action conf/emr/bootstrap.sh; --py-files
#   puts this exact wheel first on the path of the driver and the executors.
# - Client deploy mode: the driver runs in this process on the primary node, so it inherits the environment
#   that carries the CDF credentials (docs/deploy.md, "Secrets on EMR").
# - Extra arguments go to the command, for example: conf/emr/spark-submit.sh --view my_space/Model/v1/Pump
set -euo pipefail

ARTIFACTS="${CDF_REPLICATOR_ARTIFACTS:-s3://your-bucket/cdf-replicator}"

exec spark-submit \
  --deploy-mode client \
  --packages io.delta:delta-spark_2.12:3.3.2 \
  --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
  --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
  --conf spark.pyspark.python=/usr/bin/python3.11 \
  --conf spark.pyspark.driver.python=/usr/bin/python3.11 \
  --py-files "${ARTIFACTS}/dist/cdf_replicator-0.1.0-py3-none-any.whl" \
  "${ARTIFACTS}/jobs/run.py" \
  --config "${ARTIFACTS}/conf/replicator.yaml" \
  "$@"
