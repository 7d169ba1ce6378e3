"""Job entry script: replicate, then publish (``cdf-replicator run``).

Run by ``spark-submit`` (EMR step, EMR Serverless) or as a Databricks ``spark_python_task``, with the
cdf-replicator wheel on the Python path; every argument goes to the command, for example::

    spark-submit --py-files cdf_replicator-<version>-py3-none-any.whl jobs/run.py --config s3://bucket/conf.yaml

The process exits with the command's code (non-zero when any view failed), so the step or task fails with it.
"""

import sys

from cdf_replicator.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
