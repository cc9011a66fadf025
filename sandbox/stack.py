"""The whole service on one machine: `make run` and the integration tests use this.

Starts, unless told to use something else:
- moto's server for DynamoDB and SQS (unless AWS_ENDPOINT_URL is set),
- the Xero and Zoho CRM stand-ins, seeded, with Zoho's automation wired to our
  webhook (unless XERO_API_URL / XERO_IDENTITY_URL / ZOHO_ACCOUNTS_URL are set),
- the Chalice app on a local HTTP server,
- a queue worker that feeds SQS messages to the app's real `sync_worker` handler,
and creates the table and queues. Ctrl-C or SIGTERM stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from sandbox.common import ServerThread

log = logging.getLogger("sandbox.stack")

LOCAL_SECRETS = {
    "WEBHOOK_TOKEN": "local-webhook-token",
    "ADMIN_TOKEN": "local-admin-token",
    "ZOHO_CLIENT_ID": "sandbox-zoho-client-id",
    "ZOHO_CLIENT_SECRET": "sandbox-zoho-client-secret",
    "ZOHO_REFRESH_TOKEN": "sandbox-zoho-refresh-token",
    "XERO_CLIENT_ID": "sandbox-xero-client-id",
    "XERO_CLIENT_SECRET": "sandbox-xero-client-secret",
    "XERO_REFRESH_TOKEN": "sandbox-xero-refresh-token",
    # The portal's local password is LOCAL_PORTAL_PASSWORD; this is its scrypt hash.
    "ADMIN_PASSWORD_HASH": "scrypt$16384$8$1$vzkKRKlIkuBAYxWayqJwdQ$MIYFOUwtOBaOugL29MSQKA8E05BCrH2XMsFAuweohHo",
    "SESSION_SECRET": "local-session-secret-not-for-production",
}
LOCAL_PORTAL_PASSWORD = "local-portal-password"
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# A failed queued sync becomes visible again after this long (Lambda: the queue's
# visibility timeout); short locally so retries are visible in a demo.
LOCAL_RETRY_SECONDS = 2


@dataclass
class StackConfig:
    host: str = "127.0.0.1"
    app_port: int = 8000
    xero_port: int = 9001
    zoho_port: int = 9002
    moto_port: int = 0
    start_worker: bool = True
    run_workers: int = 3
    xero_options: dict[str, Any] = field(default_factory=dict)
    zoho_options: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


class LocalStack:
    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.xero: Any = None  # the XeroSandbox, when we started it
        self.zoho: Any = None
        self.xero_url = ""
        self.zoho_url = ""
        self.app_url = ""
        self._servers: list[Any] = []
        self._saved_env: dict[str, str | None] = {}
        self._worker: QueueWorker | None = None
        self._run_workers: list[QueueWorker] = []
        self._moto: Any = None

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> LocalStack:
        self._set_env({**FAKE_AWS, **LOCAL_SECRETS, **self.config.env}, only_if_unset=True)
        self._start_moto()
        self._start_stand_ins()
        self._create_aws_resources()
        self._start_app()
        if self.config.start_worker:
            self._worker = QueueWorker(os.environ["SYNC_QUEUE_URL"])
            self._worker.start()
            # Lambda runs up to 5 run workers at once (Xero allows 5 concurrent calls).
            for _ in range(self.config.run_workers):
                worker = QueueWorker(os.environ["RUNS_QUEUE_URL"], handler="run_worker", max_messages=1)
                worker.start()
                self._run_workers.append(worker)
        return self

    def stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
        for worker in self._run_workers:
            worker.stop()
        for server in reversed(self._servers):
            with suppress(Exception):
                server.stop()
        if self._moto is not None:
            with suppress(Exception):
                self._moto.stop()
        self._restore_env()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- pieces --------------------------------------------------------------

    def _start_moto(self) -> None:
        if os.environ.get("AWS_ENDPOINT_URL"):
            return
        from moto.server import ThreadedMotoServer

        make_moto_atomic()
        self._moto = ThreadedMotoServer(
            ip_address=self.config.host, port=self.config.moto_port, verbose=False
        )
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self._set_env({"AWS_ENDPOINT_URL": f"http://{host}:{port}"})

    def _start_stand_ins(self) -> None:
        host = self.config.host
        if not os.environ.get("XERO_API_URL") and not os.environ.get("XERO_IDENTITY_URL"):
            from sandbox.xero import XeroSandbox, XeroSandboxConfig

            self.xero = XeroSandbox(XeroSandboxConfig(**self.config.xero_options))
            server = ServerThread(self.xero, host=host, port=self.config.xero_port).start()
            self._servers.append(server)
            self.xero_url = server.url
            self._set_env(
                {
                    "XERO_API_URL": server.url,
                    "XERO_IDENTITY_URL": server.url,
                    "XERO_LOGIN_URL": server.url,
                    "XERO_WEB_URL": server.url,
                }
            )
        if not os.environ.get("ZOHO_ACCOUNTS_URL"):
            from sandbox.zoho import ZohoSandbox, ZohoSandboxConfig

            self.zoho = ZohoSandbox(ZohoSandboxConfig(**self.config.zoho_options))
            server = ServerThread(self.zoho, host=host, port=self.config.zoho_port).start()
            self._servers.append(server)
            self.zoho_url = server.url
            self._set_env({"ZOHO_ACCOUNTS_URL": server.url, "ZOHO_CRM_WEB_URL": server.url})

    def _create_aws_resources(self) -> None:
        import boto3

        from chalicelib.settings import get_settings
        from chalicelib.store.schema import create_table

        settings = get_settings()
        create_table(boto3.client("dynamodb"), settings.TABLE_NAME)
        sqs = boto3.client("sqs")
        queue_url = create_queues(sqs, settings.SYNC_QUEUE_NAME, settings.MAX_QUEUE_RECEIVES)
        runs_url, runs_dlq_url = create_runs_queues(
            sqs, settings.RUNS_QUEUE_NAME, settings.MAX_QUEUE_RECEIVES
        )
        self._set_env({"SYNC_QUEUE_URL": queue_url, "RUNS_QUEUE_URL": runs_url, "RUNS_DLQ_URL": runs_dlq_url})

    def _start_app(self) -> None:
        server = ChaliceServer(self.config.host, self.config.app_port).start()
        self._servers.append(server)
        self.app_url = server.url
        if self.zoho is not None:
            self.zoho.configure(
                webhook_url=f"{server.url}/webhooks/zoho", webhook_token=os.environ["WEBHOOK_TOKEN"]
            )

    # --- environment ---------------------------------------------------------

    def _set_env(self, values: dict[str, str], *, only_if_unset: bool = False) -> None:
        for key, value in values.items():
            if only_if_unset and os.environ.get(key):
                continue
            self._saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_env(self) -> None:
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env.clear()


_moto_lock = threading.Lock()


def make_moto_atomic() -> None:
    """Serialise moto's server: DynamoDB applies each conditional write atomically, but moto
    checks the condition and then writes in plain Python, so two threads could both pass.
    Without this, our locks and token leases would be tested against a weaker DynamoDB."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    if getattr(DomainDispatcherApplication, "_atomic", False):
        return
    original = DomainDispatcherApplication.__call__

    def atomic(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        with _moto_lock:
            return list(original(self, environ, start_response))

    DomainDispatcherApplication.__call__ = atomic  # type: ignore[method-assign]
    DomainDispatcherApplication._atomic = True  # type: ignore[attr-defined]


def create_queues(sqs: Any, name: str, max_receives: int) -> str:
    """The FIFO sync queue and its dead-letter queue (what the CloudFormation template declares)."""
    dlq_name = name.replace(".fifo", "-dlq.fifo")
    dlq_url = sqs.create_queue(QueueName=dlq_name, Attributes={"FifoQueue": "true"})["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return str(
        sqs.create_queue(
            QueueName=name,
            Attributes={
                "FifoQueue": "true",
                "VisibilityTimeout": str(LOCAL_RETRY_SECONDS),
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}
                ),
            },
        )["QueueUrl"]
    )


def create_runs_queues(sqs: Any, name: str, max_receives: int) -> tuple[str, str]:
    """The standard runs queue and its dead-letter queue: (queue url, dead-letter url)."""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(LOCAL_RETRY_SECONDS),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}),
        },
    )["QueueUrl"]
    return str(url), str(dlq_url)


class ChaliceServer:
    """The Chalice app behind chalice's own local gateway (same request handling as `chalice local`)."""

    def __init__(self, host: str, port: int) -> None:
        from chalice.config import Config
        from chalice.local import LocalChalice, LocalDevServer, create_local_server

        from app import app

        config = Config(chalice_stage="dev")
        if isinstance(app, LocalChalice):  # already made thread-local by an earlier server in this process
            self._server = LocalDevServer(app, config, host, port)
        else:
            self._server = create_local_server(app, config, host, port)
        self.host = host
        self.port = self._server.server.server_port
        self._thread = threading.Thread(target=self._server.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ChaliceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server.server_close()


class LocalLambdaContext:
    """Just enough of Lambda's context object for our handlers."""

    function_name = "zoho-xero-sync-dev-sync_worker"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:zoho-xero-sync-dev-sync_worker"

    def __init__(self, budget_seconds: float = 60.0) -> None:
        self._ends = time.monotonic() + budget_seconds
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._ends - time.monotonic()) * 1000))


class QueueWorker:
    """Plays Lambda's SQS event source: receive a batch, call the handler, honour batchItemFailures."""

    def __init__(
        self, queue_url: str, poll_seconds: int = 1, *, handler: str = "sync_worker", max_messages: int = 10
    ) -> None:
        import boto3

        self.queue_url = queue_url
        self.handler = handler
        self.max_messages = max_messages
        self.poll_seconds = poll_seconds
        self.sqs = boto3.client("sqs")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"queue-worker-{handler}", daemon=True)
        self.batches = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("queue worker error")
                self._stop.wait(1)

    def poll_once(self) -> int:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.max_messages,
            # No long poll: moto is serialised (make_moto_atomic), so a waiting receive would
            # stall every other AWS call; poll briefly and rest in between instead.
            WaitTimeSeconds=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            self._stop.wait(0.2)
            return 0
        import app

        result = getattr(app, self.handler)(_lambda_event(received), LocalLambdaContext()) or {}
        failed = {item["itemIdentifier"] for item in result.get("batchItemFailures", [])}
        for message in received:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        self.batches += 1
        return len(received)


def _lambda_event(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:local",
                "awsRegion": "us-east-1",
            }
            for m in messages
        ]
    }


def _banner(stack: LocalStack) -> str:
    app, token = stack.app_url, os.environ["WEBHOOK_TOKEN"]
    lines = [
        "",
        "Zoho CRM → Xero sync is running locally.",
        f"  service        {app}   (GET {app}/health)",
        f"  Xero sandbox   {stack.xero_url or os.environ.get('XERO_API_URL')}/__sandbox__/contacts",
        f"  Zoho sandbox   {stack.zoho_url or os.environ.get('ZOHO_ACCOUNTS_URL')}/__sandbox__/records/Accounts",
        f"  AWS (moto)     {os.environ.get('AWS_ENDPOINT_URL')}",
        f"  portal         {app}/portal   (password: {LOCAL_PORTAL_PASSWORD})",
        "",
        "Try it:",
        "  # click 'Sync to Xero' on a seeded Account (Acme Widgets):",
        f"  curl -s -X POST {app}/webhooks/zoho -H 'X-Webhook-Token: {token}' \\",
        '       -H \'Content-Type: application/json\' -d \'{"account_id": "5725767000000400001", "source": "button"}\'',
        "  # the same through the Zoho stand-in, as a CRM user would (it signs the body like the Deluge button):",
        f"  curl -s -X POST {stack.zoho_url}/__sandbox__/button/5725767000000400001",
        "  # see each rejection rule: accounts ...400003 (no name) to ...400013 (archived in Xero)",
        "  # edit an Account as a user; the workflow rule fires our webhook and the queue worker syncs it:",
        f"  curl -s -X PATCH {stack.zoho_url}/__sandbox__/records/Accounts/5725767000000400002 \\",
        "       -H 'Content-Type: application/json' -d '{\"Phone\": \"+61 2 4782 9999\"}'",
        f"  # then look at the write-back: curl -s {stack.zoho_url}/__sandbox__/records/Accounts/5725767000000400002",
        "  # a bulk run with a live progress bar (--since-last-run | --days N | --all, --dry-run, --retry RUN_ID):",
        f"  ADMIN_TOKEN={os.environ['ADMIN_TOKEN']} .venv/bin/python -m chalicelib.cli sync --all --url {app}",
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the service locally on the embedded sandbox.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--xero-port", type=int, default=int(os.environ.get("XERO_PORT", "9001")))
    parser.add_argument("--zoho-port", type=int, default=int(os.environ.get("ZOHO_PORT", "9002")))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    stack = LocalStack(
        StackConfig(
            app_port=args.port, xero_port=args.xero_port, zoho_port=args.zoho_port, moto_port=args.moto_port
        )
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stack.start()
    print(_banner(stack), flush=True)
    try:
        stopped.wait()
    finally:
        print("Stopping…", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
