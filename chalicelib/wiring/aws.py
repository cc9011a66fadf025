"""AWS: the boto3 clients and the two queues (sync and runs)."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from chalicelib.wiring.base import SettingsValues

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from chalicelib.queue import SyncQueue
    from chalicelib.run_queue import RunQueue


class AwsParts(SettingsValues):
    @cached_property
    def dynamodb(self) -> BaseClient:
        import boto3

        return boto3.client("dynamodb")

    @cached_property
    def sqs(self) -> BaseClient:
        import boto3

        return boto3.client("sqs")

    @cached_property
    def ses(self) -> BaseClient:
        import boto3

        return boto3.client("ses")

    @cached_property
    def queue_url(self) -> str:
        if self.settings.SYNC_QUEUE_URL:
            return self.settings.SYNC_QUEUE_URL
        return str(self.sqs.get_queue_url(QueueName=self.settings.SYNC_QUEUE_NAME)["QueueUrl"])

    @cached_property
    def queue(self) -> SyncQueue:
        from chalicelib.queue import SyncQueue

        return SyncQueue(self.sqs, self.queue_url, max_hold_seconds=self.settings.SYNC_MAX_HOLD_SECONDS)

    @cached_property
    def run_queue(self) -> RunQueue:
        from chalicelib.run_queue import RunQueue

        s = self.settings
        url = s.RUNS_QUEUE_URL or str(self.sqs.get_queue_url(QueueName=s.RUNS_QUEUE_NAME)["QueueUrl"])
        return RunQueue(self.sqs, url, s.RUNS_DLQ_URL or None, max_delay_seconds=s.RUN_MAX_DELAY_SECONDS)
