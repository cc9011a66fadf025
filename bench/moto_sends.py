"""CPU to queue N FIFO messages into moto, ten per SendMessageBatch, as the Xero webhook queues
the events Xero sends for a bulk run's own writes: moto as it comes vs sandbox/moto_fit.py.

    python -m bench.moto_sends plain|fitted [N]

Moto runs in process (`mock_aws`); the figure is the process's CPU time for the sends alone.
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    mode, count = argv[0], int(argv[1]) if len(argv) > 1 else 600
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ[name] = value
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    if mode == "fitted":
        from sandbox.moto_fit import fit_moto

        fit_moto()
    with mock_aws():
        sqs = boto3.client("sqs")
        url = sqs.create_queue(QueueName="echoes.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        started = time.process_time()
        for start in range(0, count, 10):
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": f"event {n}",
                    "MessageGroupId": f"xero-{n}",
                    "MessageDeduplicationId": f"event-{n}",
                }
                for n in range(start, min(count, start + 10))
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
        print(f"{mode}: {count} sends, {time.process_time() - started:.2f} s CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["fitted"]))
