# EMR Serverless custom image: Python 3.11 with the cdf-replicator wheel and its dependencies.
#
# EMR 7's images carry Python 3.9; cdf-replicator needs 3.10 or newer. Build from the repository root after
# `python3 -m pip wheel --no-deps --wheel-dir dist .`, push to ECR, and name the image in the application's
# imageConfiguration (docs/deploy.md). serverless-start-job-run.json points Spark at /usr/bin/python3.11.
ARG EMR_RELEASE=emr-7.5.0
FROM public.ecr.aws/emr-serverless/spark/${EMR_RELEASE}:latest

USER root
RUN dnf install -y python3.11 python3.11-pip && dnf clean all
COPY dist/cdf_replicator-*-py3-none-any.whl /tmp/
RUN python3.11 -m pip install --no-cache-dir /tmp/cdf_replicator-*-py3-none-any.whl && rm /tmp/cdf_replicator-*.whl
# EMR Serverless runs jobs as this user.
USER hadoop:hadoop
