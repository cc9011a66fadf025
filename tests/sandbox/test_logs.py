"""sandbox/logs.py: each thread of the local stack logs with its own keys (issue 11)."""

from __future__ import annotations

import io
import json
import logging
import threading

from aws_lambda_powertools import Logger

from sandbox.logs import keys_per_thread


def _lines(stream: io.StringIO) -> dict[str, dict[str, object]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return {str(line["message"]): line for line in lines}


def _two_handlers_side_by_side(logger: Logger) -> None:
    """A queue worker inside its handler's keys while a request logs on another thread."""
    inside, done = threading.Event(), threading.Event()

    def worker() -> None:
        with logger.append_context_keys(handler="sync_worker", run_id="run-1"):
            logger.set_correlation_id("message-1")
            inside.set()
            done.wait(5)
            logger.info("worker line")

    def request() -> None:
        inside.wait(5)
        logger.info("request line")
        done.set()

    threads = [threading.Thread(target=worker), threading.Thread(target=request)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)


def _logger(name: str, stream: io.StringIO) -> Logger:
    return Logger(service=name, logger_handler=logging.StreamHandler(stream))


def test_a_line_carries_only_its_own_threads_keys() -> None:
    stream = io.StringIO()
    logger = _logger("per-thread", stream)
    keys_per_thread(logger.registered_formatter)

    _two_handlers_side_by_side(logger)

    lines = _lines(stream)
    assert lines["worker line"]["handler"] == "sync_worker"
    assert lines["worker line"]["run_id"] == "run-1"
    assert lines["worker line"]["correlation_id"] == "message-1"
    request = lines["request line"]
    assert "handler" not in request and "run_id" not in request and "correlation_id" not in request
    assert request["service"] == "per-thread"  # the keys every line had before still there


def test_without_it_the_keys_leak_across_threads() -> None:
    """What the local stack logged before: the request's line named the worker's run."""
    stream = io.StringIO()
    _two_handlers_side_by_side(_logger("shared", stream))

    assert _lines(stream)["request line"].get("run_id") == "run-1"
