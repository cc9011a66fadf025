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
import faulthandler
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from sandbox import logs
from sandbox.common import PortInUse, ServerThread, port_in_use_as_error
from sandbox.moto_fit import TtlSweeper, fit_moto, make_moto_atomic

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
    # The key of the Xero stand-in's webhook subscription to {app}/webhooks/xero.
    "XERO_WEBHOOK_KEY": "local-xero-webhook-key",
}
LOCAL_PORTAL_PASSWORD = "local-portal-password"
XERO_DEMO_CONTACT_ID = "0f6a8c57-1b1e-4a57-8d2c-3a0b6e9d1f04"  # the seeded "Ridgeway Hardware"
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
    # How often items past their TTL are deleted from moto's tables (DynamoDB: within days,
    # usually minutes); only when this stack started moto.
    ttl_sweep_seconds: float = 30.0
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
        self._ttl_sweeper: TtlSweeper | None = None
        self.xero_webhook_note = ""  # why the Xero stand-in's webhook is not enabled, if it is not

    # --- lifecycle -----------------------------------------------------------

    def start(self) -> LocalStack:
        """Start every piece; if one fails (a busy port, say), stop the ones already started."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self._set_env({**FAKE_AWS, **LOCAL_SECRETS, **self.config.env}, only_if_unset=True)
        _log_keys_per_thread()
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

    def stop(self, timeout: float = 3.0) -> None:
        """Stop everything this stack started. Workers are told to stop together and get
        `timeout` seconds in all to finish the message in hand (they are daemon threads)."""
        workers = [w for w in (self._worker, *self._run_workers) if w is not None]
        self._worker, self._run_workers = None, []
        for worker in workers:
            worker.request_stop()
        ends = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, ends - time.monotonic()))
        if self.xero is not None:
            self.xero.close()  # the webhook delivery thread
        servers, self._servers = self._servers, []
        for server in reversed(servers):
            with suppress(Exception):
                server.stop()
        if self._ttl_sweeper is not None:
            self._ttl_sweeper.stop()
            self._ttl_sweeper = None
        if self._moto is not None:
            with suppress(Exception):
                self._moto.stop()
            self._moto = None
        self._restore_env()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- pieces --------------------------------------------------------------

    def _start_moto(self) -> None:
        if os.environ.get("AWS_ENDPOINT_URL"):
            return
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        fit_moto()
        make_moto_atomic()
        # moto's ThreadedMotoServer binds inside its thread and waits forever when the port is
        # taken; bound here, a busy MOTO_PORT fails at once.
        with _port_variable("MOTO_PORT"):
            self._moto = ServerThread(
                DomainDispatcherApplication(create_backend_app),
                host=self.config.host,
                port=self.config.moto_port,
                request_handler=MotoRequestHandler,
            ).start()
        self._ttl_sweeper = TtlSweeper(self.config.ttl_sweep_seconds).start()
        self._set_env({"AWS_ENDPOINT_URL": self._moto.url})

    def _start_stand_ins(self) -> None:
        host = self.config.host
        if not os.environ.get("XERO_API_URL") and not os.environ.get("XERO_IDENTITY_URL"):
            from sandbox.xero import XeroSandbox, XeroSandboxConfig

            self.xero = XeroSandbox(XeroSandboxConfig(**self.config.xero_options))
            with _port_variable("XERO_PORT"):
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
            with _port_variable("ZOHO_PORT"):
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
        with _port_variable("PORT"):
            server = ChaliceServer(self.config.host, self.config.app_port).start()
        self._servers.append(server)
        self.app_url = server.url
        if self.zoho is not None:
            self.zoho.configure(
                webhook_url=f"{server.url}/webhooks/zoho", webhook_token=os.environ["WEBHOOK_TOKEN"]
            )
        if self.xero is not None:
            self._subscribe_xero_webhook(f"{server.url}/webhooks/xero")

    def _subscribe_xero_webhook(self, url: str) -> None:
        """Subscribe the app to the Xero stand-in's contact events, as a developer does in Xero's
        portal; intent to receive decides. A failure leaves the stack running, with a note."""
        state = self.xero.enable_webhooks(url, os.environ["XERO_WEBHOOK_KEY"])
        if state["status"] != "OK":
            failed = next(c for c in state["intent_to_receive"] if not c["passed"])
            answer = f"; it answered HTTP {failed['status_code']}" if failed["status_code"] else ""
            self.xero_webhook_note = (
                f"Xero webhook not enabled: {url} did not pass Xero's intent-to-receive check "
                f"({state['reason']}{answer})."
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


@contextmanager
def _port_variable(variable: str) -> Iterator[None]:
    """Name the setting that chooses a port when that port turns out to be taken."""
    try:
        yield
    except PortInUse as busy:
        busy.variable = variable
        raise


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
    """The Chalice app behind chalice's own local gateway (same request handling as `chalice local`),
    with a listen backlog for bursts of clicks and access lines through logging (quiet by default)."""

    def __init__(self, host: str, port: int) -> None:
        from chalice.config import Config
        from chalice.local import CustomLocalChalice, LocalChalice, LocalDevServer

        from app import app

        if not isinstance(app, LocalChalice):
            # What chalice.local.create_local_server does before it builds a LocalDevServer
            # (which has no way to pass our server and handler classes).
            CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
            app.__class__ = CustomLocalChalice
        with port_in_use_as_error(host, port):
            self._server = LocalDevServer(
                app,
                Config(chalice_stage="dev"),
                host,
                port,
                handler_cls=_local_gateway_handler(),
                server_cls=_local_gateway_server(),
            )
        self.host = host
        self.port = self._server.server.server_port
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ChaliceServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():  # shutdown() waits forever for a loop that never started
            self._server.shutdown()
        self._server.server.server_close()


#: Connections the app's server queues before accepting them. socketserver's default of 5
#: reset 16 of 50 simultaneous clicks; the kernel caps this at net.core.somaxconn.
LISTEN_BACKLOG = 1024


def _local_gateway_server() -> type:
    from chalice.local import ThreadedHTTPServer

    class LocalGatewayServer(ThreadedHTTPServer):
        request_queue_size = LISTEN_BACKLOG
        daemon_threads = True

    return LocalGatewayServer


def _local_gateway_handler() -> type:
    from chalice.local import ChaliceRequestHandler

    access = logging.getLogger("sandbox.access")

    class LoggedRequestHandler(ChaliceRequestHandler):  # type: ignore[misc]
        """Access lines go to logging (shown with VERBOSE=1, redacted), not straight to stderr."""

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            access.info('%s "%s" %s %s', self.address_string(), self.requestline, code, size)

        def log_error(self, format: str, *args: Any) -> None:
            access.warning("%s %s", self.address_string(), format % args)

        def log_message(self, format: str, *args: Any) -> None:
            access.info("%s %s", self.address_string(), format % args)

    return LoggedRequestHandler


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


def _log_keys_per_thread() -> None:
    """The service's log keys per thread (sandbox/logs.py says why), before any thread starts."""
    from chalicelib.observability import logger

    logs.keys_per_thread(logger.registered_formatter)


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
        self.request_stop()
        self.join(10)

    def request_stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

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
        done = [
            {"Id": str(n), "ReceiptHandle": message["ReceiptHandle"]}
            for n, message in enumerate(received)
            if message["MessageId"] not in failed
        ]
        if done:  # one call for the batch, as Lambda's event source mapping deletes
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=done)
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
        "  # edit a contact as a Xero user would (Ridgeway Hardware); Xero's webhook tells the service:",
        f"  curl -s -X POST {stack.xero_url or os.environ.get('XERO_API_URL')}/__sandbox__/user/contacts/"
        + XERO_DEMO_CONTACT_ID
        + ' -d \'{"EmailAddress": "accounts@ridgeway.example"}\'',
        "  # a bulk run with a live progress bar (--since-last-run | --days N | --all, --dry-run, --retry RUN_ID):",
        f"  ADMIN_TOKEN={os.environ['ADMIN_TOKEN']} .venv/bin/python -m chalicelib.cli sync --all --url {app}",
        "",
        *([stack.xero_webhook_note, ""] if stack.xero_webhook_note else []),
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def _print_whole(text: str) -> None:
    """One write for the whole text, newline included: with VERBOSE=1 other threads log at the
    same moment, and a print() split in two let a request line land inside the banner's last line.
    A pipe write up to PIPE_BUF (4 KiB) is never interleaved."""
    sys.stdout.flush()
    data = (text + "\n").encode()
    while data:
        data = data[os.write(sys.stdout.fileno(), data) :]


#: Ctrl-C or SIGTERM stops the stack within this long, whatever is in flight (then it exits anyway).
STOP_DEADLINE_SECONDS = 4.0
PORT_VARIABLES = ("PORT", "XERO_PORT", "ZOHO_PORT", "MOTO_PORT")
DEFAULT_PORTS = {"PORT": 8000, "XERO_PORT": 9001, "ZOHO_PORT": 9002, "MOTO_PORT": 5000}


class _StopRequested(Exception):
    """SIGINT or SIGTERM arrived."""


def check_ports_free(host: str, ports: dict[str, int]) -> None:
    """Raise PortInUse for the first taken port, before anything slow starts."""
    import socket

    for variable, port in ports.items():
        if not port:
            continue
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers bind
            try:
                probe.bind((host, port))
            except OSError as exc:
                raise PortInUse(host, port, variable) from exc


def port_in_use_message(busy: PortInUse) -> str:
    variable = busy.variable or "PORT"
    hint = " (on macOS, port 5000 is the AirPlay Receiver)" if busy.port == 5000 else ""
    free = busy.port + 1 if busy.port < 65535 else busy.port - 1
    return (
        f"Cannot start: port {busy.port} ({variable}) is already in use by another program{hint}.\n"
        f"Stop that program, or choose another port: make run {variable}={free}"
    )


def _settings_from(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run the service locally on the embedded sandbox.")
    for variable in PORT_VARIABLES:
        flag = "--port" if variable == "PORT" else "--" + variable.lower().replace("_", "-")
        try:
            default = int(os.environ.get(variable) or DEFAULT_PORTS[variable])
        except ValueError:
            parser.error(f"{variable} must be a port number, not {os.environ[variable]!r}")
        parser.add_argument(flag, dest=variable, type=int, default=default, help=f"(or {variable})")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _settings_from(argv)
    # `kill -USR1 <pid>` prints every thread's stack: what a stack that will not stop is doing.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    ports = {variable: getattr(args, variable) for variable in PORT_VARIABLES}
    logs.configure(logs.is_verbose(os.environ.get("VERBOSE")))

    def request_stop(signum: int, _frame: Any) -> None:
        # A second Ctrl-C while stopping ends the process at once.
        signal.signal(signal.SIGINT, lambda *_: os._exit(130))
        signal.signal(signal.SIGTERM, lambda *_: os._exit(143))
        raise _StopRequested(signal.Signals(signum).name)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    config = StackConfig(
        app_port=ports["PORT"],
        xero_port=ports["XERO_PORT"],
        zoho_port=ports["ZOHO_PORT"],
        moto_port=ports["MOTO_PORT"],
    )
    stack = LocalStack(config)
    try:
        check_ports_free(config.host, ports)
        stack.start()
        logs.guard_handlers("zoho-xero-sync", "chalicelib")
        _print_whole(_banner(stack))
        # Until a signal raises _StopRequested. Not one long blocking wait: the kernel may hand
        # the signal to any of the stack's threads, and Python runs the handler only when the
        # main thread next runs, which a wait on a lock never would.
        while True:
            time.sleep(0.2)
    except PortInUse as busy:
        print(port_in_use_message(busy), flush=True)
        return 1
    except (_StopRequested, KeyboardInterrupt):
        print("Stopping…", flush=True)
        _stop_within_deadline(stack)
        print("Stopped.", flush=True)
    return 0


def _stop_within_deadline(stack: LocalStack) -> None:
    """Stop the stack; if something in flight holds it up past the deadline, exit regardless
    (every thread is a daemon and the kernel closes the listening sockets)."""
    watchdog = threading.Timer(STOP_DEADLINE_SECONDS, lambda: os._exit(1))
    watchdog.daemon = True
    watchdog.start()
    stack.stop(timeout=STOP_DEADLINE_SECONDS / 2)
    watchdog.cancel()


if __name__ == "__main__":
    raise SystemExit(main())
