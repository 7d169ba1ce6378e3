#!/usr/bin/env bash
# EMR bootstrap action: Python 3.11 and the cdf-replicator wheel with its dependencies, on every node.
#
#   --bootstrap-actions Path=s3://your-bucket/cdf-replicator/conf/emr/bootstrap.sh,Args=[s3://your-bucket/cdf-replicator/dist/cdf_replicator-0.1.0-py3-none-any.whl]
#
# EMR 7's system Python is 3.9; cdf-replicator needs 3.10 or newer, so Spark is pointed at python3.11
# (spark.pyspark.python in conf/emr/spark-submit.sh). pyspark itself is not installed: EMR's Spark provides it.
set -euo pipefail

WHEEL_URI="${1:?usage: bootstrap.sh s3://.../cdf_replicator-<version>-py3-none-any.whl}"
WHEEL="/tmp/$(basename "${WHEEL_URI}")"

sudo dnf install -y python3.11 python3.11-pip
aws s3 cp "${WHEEL_URI}" "${WHEEL}"
sudo python3.11 -m pip install --quiet "${WHEEL}"
