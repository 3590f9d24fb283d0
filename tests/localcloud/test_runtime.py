"""Each function runs in its own warm worker processes, as Lambda runs it in its own containers."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from localcloud import LocalCloud
from localcloud.servers import free_port
from tests.helpers import aws_client

pytestmark = pytest.mark.e2e  # boots a LocalCloud

FIXTURE = Path(__file__).parent / "fixture" / "template.yaml"
REPO = Path(__file__).resolve().parents[2]


def invoke(cloud: LocalCloud, function: str, event: dict[str, Any] | None = None) -> tuple[str | None, Any]:
    response = aws_client(cloud, "lambda").invoke(FunctionName=function, Payload=json.dumps(event or {}).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def ok(cloud: LocalCloud, function: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    error, body = invoke(cloud, function, event)
    assert error is None, body
    assert isinstance(body, dict)
    return body


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has exited


class Held:
    """An invocation of ProbeA blocked on a FIFO until release() (no sleeps, no timing)."""

    def __init__(self, cloud: LocalCloud, tmp_path: Path, name: str, function: str = "ProbeA") -> None:
        self.fifo = tmp_path / f"{name}.fifo"
        self.started = tmp_path / f"{name}.started"
        os.mkfifo(self.fifo)
        self.result: list[tuple[str | None, Any]] = []
        event = {"wait_for": str(self.fifo), "started": str(self.started)}
        self.thread = threading.Thread(target=lambda: self.result.append(invoke(cloud, function, event)))
        self.thread.start()

    def pid(self, wait_until: Any) -> int:
        return int(wait_until(lambda: self.started.exists() and self.started.read_text()))

    def release(self) -> None:
        try:
            fd = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # nobody reading (the invocation never got there, or was killed)
            pass
        else:
            os.close(fd)
        self.thread.join(timeout=30)


def test_module_globals_and_logger_keys_stay_in_their_function(start_cloud: Any) -> None:
    cloud = start_cloud()
    # Given ProbeA set a module global and a logger key of the layer they share
    first = ok(cloud, "ProbeA", {"set": "from-A"})
    assert first["previous"] is None
    # When ProbeB runs, it sees neither
    b = ok(cloud, "ProbeB")
    assert (b["previous"], b["logger_caller"]) == (None, None)
    assert b["pid"] != first["pid"] and b["pid"] != os.getpid()
    # while ProbeA's warm container kept them, as a Lambda container does
    again = ok(cloud, "ProbeA")
    assert (again["previous"], again["logger_caller"], again["pid"]) == ("from-A", "from-A", first["pid"])


def test_each_function_sees_only_its_own_environment(start_cloud: Any) -> None:
    cloud = start_cloud(env={"EXTRA": "set-for-all"})
    a, b = ok(cloud, "ProbeA"), ok(cloud, "ProbeB")
    assert a["env"] == {"PER_FN": "a", "ONLY_A": "only-in-a"}
    assert b["env"] == {"PER_FN": "b", "ONLY_A": None}


def test_events_larger_than_a_pipe_buffer_reach_the_worker_whole(start_cloud: Any) -> None:
    cloud = start_cloud()
    event = {"blob": "é" * 1_000_000}  # Lambda takes up to 6 MB synchronously
    assert ok(cloud, "ProbeA", event)["event_size"] == len(json.dumps(event))


def test_a_second_concurrent_invocation_gets_a_second_worker(start_cloud: Any, wait_until: Any, tmp_path: Path) -> None:
    cloud = start_cloud()
    held = Held(cloud, tmp_path, "first")
    try:
        busy_pid = held.pid(wait_until)
        # While the first worker is busy, a second invocation runs in a second worker
        second = ok(cloud, "ProbeA")
        assert second["pid"] != busy_pid
        assert cloud.runtime is not None and cloud.runtime.workers("ProbeA") == sorted([busy_pid, second["pid"]])
    finally:
        held.release()
    [(error, first)] = held.result
    assert error is None and first["pid"] == busy_pid
    # and both stay warm: the next invocation reuses one of them
    assert ok(cloud, "ProbeA")["pid"] in {busy_pid, second["pid"]}


def test_workers_per_function_are_capped_and_callers_wait(start_cloud: Any, wait_until: Any, tmp_path: Path) -> None:
    cloud = start_cloud(max_workers=1)
    held = Held(cloud, tmp_path, "only")
    busy_pid = held.pid(wait_until)
    queued: list[dict[str, Any]] = []
    waiter = threading.Thread(target=lambda: queued.append(ok(cloud, "ProbeA")))
    waiter.start()
    try:
        # the second caller waits rather than starting a second worker
        assert cloud.runtime is not None
        wait_until(lambda: cloud.runtime.waiting("ProbeA") == 1)
        assert cloud.runtime.workers("ProbeA") == [busy_pid]
    finally:
        held.release()
    waiter.join(timeout=30)
    assert [q["pid"] for q in queued] == [busy_pid]  # and is served by the one worker once free


def test_a_timeout_kills_the_worker_and_the_next_call_gets_a_new_one(
    start_cloud: Any, wait_until: Any, tmp_path: Path
) -> None:
    cloud = start_cloud()
    held = Held(cloud, tmp_path, "stuck", function="ProbeB")  # ProbeB's Timeout is 2 s
    try:
        stuck_pid = held.pid(wait_until)
        held.thread.join(timeout=30)
        [(error, body)] = held.result
    finally:
        held.release()
    assert error == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 2.00 seconds" in body["errorMessage"]
    wait_until(lambda: not alive(stuck_pid))
    fresh = ok(cloud, "ProbeB")
    assert fresh["pid"] != stuck_pid
    assert 0 < fresh["remaining"] <= 2000


def test_function_output_is_logged_with_its_name(start_cloud: Any, wait_until: Any, caplog: Any) -> None:
    cloud = start_cloud()
    with caplog.at_level(logging.INFO, logger="localcloud.fn"):
        pid = ok(cloud, "ProbeA")["pid"]
        line = f"probe {cloud.runtime.get('ProbeA').name if cloud.runtime else ''} pid {pid}"
        wait_until(lambda: any(r.name == "localcloud.fn.ProbeA" and r.getMessage() == line for r in caplog.records))
        error, crash = invoke(cloud, "CrashFunction")
        assert error == "Unhandled" and crash["errorType"] == "CrashError"
        wait_until(
            lambda: any(
                r.name == "localcloud.fn.CrashFunction" and r.getMessage() == "[ERROR] CrashError: kaboom"
                for r in caplog.records
            )
        )


def test_workers_end_when_the_local_cloud_stops(start_cloud: Any, wait_until: Any) -> None:
    cloud = start_cloud()
    pids = [ok(cloud, "ProbeA")["pid"], ok(cloud, "ProbeB")["pid"]]
    cloud.stop()
    wait_until(lambda: not any(alive(pid) for pid in pids))


def test_workers_never_outlive_a_killed_dev_process(wait_until: Any) -> None:
    ports = {name: free_port() for name in ("api", "lambda", "aws", "sandbox")}
    cmd = [sys.executable, "-m", "localcloud", "dev", "--template", str(FIXTURE), "--no-schedules"]
    cmd += [arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{ports['lambda']}/2015-03-31/functions/ProbeA/invocations"

        def worker_pid() -> int | None:
            try:
                return int(httpx.post(url, content=b"{}", timeout=30).json()["pid"])
            except httpx.TransportError:
                return None

        pid = wait_until(worker_pid, timeout=60)
        assert alive(pid)
        # When the engine dies without cleaning up (SIGKILL: no handler runs)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        # Then its worker ends by itself
        wait_until(lambda: not alive(pid))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_an_import_error_is_reported_like_lambda_and_retried_on_the_next_call(tmp_path: Path) -> None:
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text("import not_installed_anywhere\n\nhandler = print\n")
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Broken:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: fn/, Handler: app.handler, Runtime: python3.11}\n"
    )
    ports = {"api_port": 0, "lambda_port": 0, "aws_port": 0, "sandbox_port": 0}
    options = {"aws": False, "sandboxes": False, "schedules": False, "sqs_pollers": False}
    with LocalCloud(tmp_path / "template.yaml", **ports, **options) as cloud:
        for _ in range(2):  # a failed init leaves no worker behind: the next call initialises again
            error, body = invoke(cloud, "Broken")
            assert error == "Unhandled"
            assert body["errorType"] == "Runtime.ImportModuleError"
            assert body["errorMessage"] == "Unable to import module 'app': No module named 'not_installed_anywhere'"
            assert cloud.runtime is not None and cloud.runtime.workers("Broken") == []
