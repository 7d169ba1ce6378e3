"""End-to-end fixtures: a real S3-protocol server (moto's server mode) on 127.0.0.1."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

S3_REGION = "us-east-1"
S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key"  # moto accepts any credentials; real ones come from the environment


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=S3_REGION,
            aws_access_key_id=S3_ACCESS_KEY,
            aws_secret_access_key=S3_SECRET_KEY,
        )

    def new_bucket(self) -> str:
        name = f"lake-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port for the whole run; stopped at the end."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield S3Server(endpoint_url=f"http://{host}:{port}")
    server.stop()


@pytest.fixture()
def s3_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> S3Server:
    """Standard AWS variables pointing at the test server, as a user's environment would hold them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", S3_ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", S3_REGION)
    return s3_server


@pytest.fixture()
def s3_lake(spark: Any, s3_env: S3Server) -> Iterator[Any]:
    """A fresh bucket on the S3 server as a replicator destination (``destination.s3`` with an endpoint).

    The test Spark JVM started before ``s3_env`` set the AWS variables, so its environment lacks them; the same
    credentials go into the JVM's system properties, the next link of the AWS SDK's default credentials chain.
    On a real cluster the variables (or a role) are there when the JVM starts.
    """
    from tests.e2e.lake import Lake

    system = spark._jvm.java.lang.System
    system.setProperty("aws.accessKeyId", S3_ACCESS_KEY)
    system.setProperty("aws.secretKey", S3_SECRET_KEY)
    bucket = s3_env.new_bucket()
    destination = {
        "s3": {
            "bucket": bucket,
            "prefix": "lake",
            "region": S3_REGION,
            "endpoint-url": s3_env.endpoint_url,
            "path-style": True,
        }
    }
    yield Lake(destination, f"s3a://{bucket}/lake")
    system.clearProperty("aws.accessKeyId")
    system.clearProperty("aws.secretKey")
