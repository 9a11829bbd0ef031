"""An S3-compatible server for tests: moto's standalone server on a free loopback port.

``MEDIA_STORAGE=s3 pytest …`` runs the media tests against it (each test gets a prefix of its own
in one bucket); the multi-node test hands its endpoint to the portal processes it starts.
"""

from __future__ import annotations

import os
import socket

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "eu-central-1"}
BUCKET = "ums-media-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class S3Server:
    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        for name, value in CREDENTIALS.items():
            os.environ.setdefault(name, value)
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def start(self) -> S3Server:
        self.server.start()
        self.client().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        return self

    def stop(self) -> None:
        self.server.stop()

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="eu-central-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def config(self, prefix: str) -> dict:
        return {"MEDIA_STORAGE": "s3", "MEDIA_S3_BUCKET": BUCKET, "MEDIA_S3_PREFIX": prefix,
                "MEDIA_S3_ENDPOINT_URL": self.endpoint, "MEDIA_S3_REGION": "eu-central-1"}

    def upload_folder(self, folder, prefix: str) -> None:
        """Copy a local media folder (the demo's audio) below ``prefix``."""
        from pathlib import Path

        client = self.client()
        folder = Path(folder)
        if not folder.is_dir():
            return
        for path in folder.rglob("*"):
            if path.is_file():
                client.put_object(Bucket=BUCKET, Key=f"{prefix}/{path.relative_to(folder).as_posix()}",
                                  Body=path.read_bytes())


def s3_selected() -> bool:
    """True when the suite runs its media tests against the S3 server (``MEDIA_STORAGE=s3``)."""
    return os.environ.get("MEDIA_STORAGE", "").lower() == "s3"
