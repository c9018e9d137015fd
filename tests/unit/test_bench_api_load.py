"""bench/api_load.py's open loop and verdicts, without Neo4j: the timetable (due times), latency counted from
the due time when a send is late (no coordinated omission), unsent requests, and the goal verdict that needs
both the saturation run and the run at the goal's rate."""
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import api_load
from bench.api_load import ConnectionTally, Schedule, drive_schedule, goal_verdict, plan_measurements


class FakeClock:
    """A clock that only moves when the code under test sleeps or a fake request takes its time."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def drive(schedule: Schedule, service_s: list[float]) -> tuple[ConnectionTally, list[int]]:
    """One connection on a fake clock; request i takes service_s[i] seconds. The tally and the indices sent."""
    clock, tally, sent = FakeClock(), ConnectionTally(), []

    def send(index):
        sent.append(index)
        clock.now += service_s[index]
        return f"/r{index}", "", 200, b""

    clock.now = schedule.start
    drive_schedule(schedule, send, tally, clock=clock, sleep=clock.sleep)
    return tally, sent


# --- the timetable -------------------------------------------------------------------------------


def test_request_i_is_due_at_start_plus_i_over_rate():
    schedule = Schedule(start=100.0, rate=200, warmup=1, duration=2)
    assert schedule.due(0) == 100.0
    assert schedule.due(1) == pytest.approx(100.005)
    assert schedule.due(200) == pytest.approx(101.0)
    assert schedule.due(599) == pytest.approx(102.995)
    assert (schedule.first_measured, schedule.total, schedule.measured) == (200, 600, 400)
    assert (schedule.measure_from, schedule.stop_at) == (101.0, 103.0)
    assert schedule.give_up_at == pytest.approx(103.0 + api_load.DRAIN_S)


@pytest.mark.parametrize("rate, warmup, duration",
                         [(10, 0.7, 0.3), (100, 0.07, 0.14), (3, 1, 10), (200, 3, 10), (333.3, 0.1, 0.2)])
def test_the_measured_requests_are_exactly_those_due_inside_the_window(rate, warmup, duration):
    schedule = Schedule(start=0.0, rate=rate, warmup=warmup, duration=duration)
    first, total = schedule.first_measured, schedule.total
    # 0.07 × 100 is 7.000000000000001 in floats: request 7 is due at 0.07, the window's first instant.
    assert schedule.due(first) >= schedule.measure_from - 1e-9
    assert first == 0 or schedule.due(first - 1) < schedule.measure_from - 1e-9
    assert schedule.due(total - 1) < schedule.stop_at - 1e-9
    assert schedule.due(total) >= schedule.stop_at - 1e-9
    assert schedule.measured == pytest.approx(rate * duration, abs=1)


def test_the_connections_take_every_request_once_and_in_order():
    schedule = Schedule(start=0.0, rate=10_000, warmup=0, duration=5)
    taken = [[] for _ in range(8)]

    def take_all(into):
        while (index := schedule.take()) is not None:
            into.append(index)

    threads = [threading.Thread(target=take_all, args=(into,)) for into in taken]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch as often as they can: a race in take() would show
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert sorted(index for into in taken for index in into) == list(range(50_000))
    assert all(into == sorted(into) for into in taken)
    assert schedule.take() is None


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError):
        Schedule(start=0.0, rate=0, warmup=1, duration=1)


# --- latency from the due time -------------------------------------------------------------------


def test_a_late_send_counts_its_wait_in_the_latency():
    # 100/s: due at 0, 10, 20, 30 ms. Request 1 takes 25 ms, so request 2 (due at 20) goes out at 35, 15 ms late,
    # and request 3 (due at 30) at 39, 9 ms late (under the 10 ms threshold).
    schedule = Schedule(start=50.0, rate=100, warmup=0, duration=0.04)
    tally, sent = drive(schedule, [0.005, 0.025, 0.004, 0.005])
    assert sent == [0, 1, 2, 3]
    assert tally.latencies == pytest.approx([0.005, 0.025, 0.019, 0.014])  # from the due time
    assert tally.service == pytest.approx([0.005, 0.025, 0.004, 0.005])  # send → answer: 4 ms for request 2
    assert (tally.late, tally.indices, tally.sent) == (1, [0, 1, 2, 3], 4)
    assert tally.max_late == pytest.approx(0.015)
    assert tally.statuses == {"200": 4}


def test_an_early_connection_waits_for_the_due_time():
    schedule = Schedule(start=0.0, rate=10, warmup=0, duration=0.3)
    clock, tally, sent_at = FakeClock(), ConnectionTally(), []

    def send(index):
        sent_at.append(clock.now)
        clock.now += 0.001
        return "/", "", 200, b""

    drive_schedule(schedule, send, tally, clock=clock, sleep=clock.sleep)
    assert sent_at == pytest.approx([0.0, 0.1, 0.2])
    assert tally.latencies == pytest.approx([0.001] * 3)
    assert tally.late == 0


def test_a_late_wake_up_is_told_apart_from_a_busy_pool():
    # The connection is free and sleeps until each due time, but gets the CPU back 12 ms late every time.
    schedule = Schedule(start=0.0, rate=10, warmup=0, duration=0.3)
    clock, tally = FakeClock(), ConnectionTally()

    def oversleep(seconds):
        clock.now += seconds + 0.012

    def send(index):
        clock.now += 0.001
        return "/", "", 200, b""

    drive_schedule(schedule, send, tally, clock=clock, sleep=oversleep)
    assert (tally.late, tally.late_wakeups) == (2, 2)  # request 0 is sent at once, the others 12 ms late
    assert tally.latencies == pytest.approx([0.001, 0.013, 0.013])
    # A busy pool: the connection did not wait, the request was already due.
    busy, _ = drive(Schedule(start=50.0, rate=100, warmup=0, duration=0.04), [0.005, 0.025, 0.004, 0.005])
    assert (busy.late, busy.late_wakeups) == (1, 0)


def test_warm_up_requests_are_sent_but_not_measured():
    schedule = Schedule(start=0.0, rate=100, warmup=0.02, duration=0.02)
    tally, sent = drive(schedule, [0.050, 0.001, 0.001, 0.001])
    assert sent == [0, 1, 2, 3]
    assert tally.sent == 4
    assert tally.indices == [2, 3]
    # Request 0's 50 ms pushed the measured requests back: 2 (due 20 ms) goes out at 51 ms, 3 right after.
    assert tally.latencies == pytest.approx([0.032, 0.023])
    assert tally.late == 2


def test_requests_left_when_the_server_falls_behind_count_as_unsent_with_their_wait():
    schedule = Schedule(start=0.0, rate=100, warmup=0, duration=0.03, drain=0.05)  # give up at 80 ms
    tally, sent = drive(schedule, [0.200, 0.001, 0.001])
    assert sent == [0]  # request 1's turn came at 200 ms, after the give-up
    unsent, waits = api_load.unsent_latencies(schedule, tally.indices)
    assert list(unsent) == [1, 2]
    assert list(waits) == pytest.approx([0.070, 0.060])  # a lower bound: due → give-up


# --- the load process against a local HTTP server ------------------------------------------------


class _Slow(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls
    delay_s = 0.0

    def do_GET(self):
        threading.Event().wait(0.5 if self.path == "/slow" else self.delay_s)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    servers = []

    def serve(delay_s: float) -> int:
        handler = type("Handler", (_Slow,), {"delay_s": delay_s})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _spec(port, **overrides):
    return {"host": "127.0.0.1", "port": port, "requests": [["/a", {}, ""], ["/b", {}, ""]], "concurrency": 4,
            "warmup": 0.1, "duration": 0.5, **overrides}


def test_the_open_loop_keeps_the_offered_rate(http_server):
    figures = api_load.run_load(_spec(http_server(0.0), rate=200))
    assert figures["offered_rps"] == 200
    assert figures["scheduled"] == 100
    assert figures["requests"] == 100
    assert (figures["errors"], figures["unsent"]) == (0, 0)
    assert 100 < figures["rps"] <= 201  # 100 answers in the 0.5 s window (and its last answer's tail)
    assert figures["load_sent"] == 120  # warm-up included
    assert figures["load_cpu_s_per_1k"] > 0


def test_a_pool_too_small_shows_as_late_sends_and_in_the_latency(http_server):
    # One connection, 20 ms per answer: at most 50/s against 100/s offered. A closed loop would report ~20 ms.
    figures = api_load.run_load(_spec(http_server(0.02), rate=100, concurrency=1, warmup=0, duration=0.3))
    assert figures["unsent"] == 0 and figures["errors"] == 0
    assert figures["late"] > 10
    assert figures["service_p50_ms"] < 100  # the server answers in ~20 ms …
    assert figures["p99_ms"] > 200  # … but the last requests waited ~0.3 s for the connection


def test_unsent_requests_count_in_the_percentiles_with_their_wait(http_server):
    # The first answer takes 0.5 s, past the give-up (0.1 s of timetable + 0.05 s): 9 of the 10 are never sent.
    spec = _spec(http_server(0.0), requests=[["/slow", {}, ""], ["/fast", {}, ""]], rate=100, concurrency=1,
                 warmup=0, duration=0.1, drain=0.05)
    figures = api_load.run_load(spec)
    assert (figures["requests"], figures["unsent"], figures["scheduled"]) == (1, 9, 10)
    assert figures["max_ms"] >= 500
    assert 40 < figures["p50_ms"] < 160  # the unsent ones' waits (60 … 140 ms), not the one answer's 500 ms


def test_the_closed_loop_is_unchanged(http_server):
    figures = api_load.run_load(_spec(http_server(0.0)))
    assert figures["requests"] > 0 and figures["errors"] == 0
    assert "offered_rps" not in figures and "unsent" not in figures


# --- what runs, and the verdicts -----------------------------------------------------------------


def test_a_throughput_goal_adds_a_run_at_its_rate():
    names = [m.name for m in plan_measurements(["healthz", "households", "regions", "recommendations"])]
    assert names == ["healthz", "households", "households @200/s", "regions", "recommendations",
                     "recommendations @200/s"]
    assert [m.rate for m in plan_measurements(["households"])] == [None, 200]


def test_with_a_rate_every_scenario_runs_at_that_rate_only():
    assert [m.name for m in plan_measurements(["households", "regions"], rate=300)] == [
        "households @300/s", "regions @300/s"]


def test_the_ceiling_comes_first_except_at_a_fixed_rate():
    assert api_load.choose_scenarios(["households"], []) == ["healthz", "households"]
    assert api_load.choose_scenarios(["households"], [], ceiling_first=False) == ["households"]


def _figures(**values):
    return {"requests": 1000, "errors": 0, "rps": 500.0, "p99_ms": 10.0, **values}


def test_pass_needs_the_throughput_at_saturation_and_the_p99_at_the_goal_rate():
    # At saturation the p99 is queueing (120 ms) and is not judged; at 200/s it is 30 ms.
    results = {"households": _figures(rps=450, p99_ms=120), "households @200/s": _figures(rps=199, p99_ms=30, unsent=0)}
    verdict = goal_verdict("households", results)
    assert verdict["verdict"] == "pass", verdict
    assert verdict["measurements"] == ["households", "households @200/s"]


def test_too_little_throughput_at_saturation_fails():
    results = {"households": _figures(rps=150), "households @200/s": _figures(p99_ms=30, unsent=0)}
    verdict = goal_verdict("households", results)
    assert verdict["verdict"] == "fail"
    assert verdict["reasons"] == ["households: 150 < 200 req/s"]


def test_a_p99_over_the_goal_at_the_goal_rate_fails():
    results = {"recommendations": _figures(rps=900), "recommendations @200/s": _figures(p99_ms=70, unsent=0)}
    verdict = goal_verdict("recommendations", results)
    assert verdict["verdict"] == "fail"
    assert verdict["reasons"] == ["recommendations @200/s: p99 70.0 > 50 ms"]


def test_a_missing_run_unsent_requests_or_errors_fail():
    assert goal_verdict("households", {"households": _figures()})["reasons"] == ["households @200/s: not measured"]
    unsent = goal_verdict("households", {"households": _figures(), "households @200/s": _figures(unsent=7)})
    assert unsent["verdict"] == "fail" and "7 requests never sent" in unsent["reasons"][0]
    errors = goal_verdict("households", {"households": _figures(), "households @200/s": _figures(errors=3)})
    assert errors["reasons"] == ["households @200/s: 3 errors"]


def test_without_a_throughput_goal_the_saturation_p99_is_judged():
    assert goal_verdict("regions", {"regions": _figures(p99_ms=150)})["verdict"] == "pass"
    verdict = goal_verdict("regions", {"regions": _figures(p99_ms=250)})
    assert verdict["reasons"] == ["regions: p99 250.0 > 200 ms"]
    assert goal_verdict("healthz", {"healthz": _figures()}) is None


def test_with_a_rate_the_run_at_that_rate_decides_and_must_reach_the_throughput_goal():
    fast = goal_verdict("households", {"households @300/s": _figures(p99_ms=30, unsent=0)}, rate=300)
    assert (fast["verdict"], fast["measurements"]) == ("pass", ["households @300/s"])
    slow = goal_verdict("households", {"households @100/s": _figures(p99_ms=30, unsent=0)}, rate=100)
    assert slow["reasons"] == ["households @100/s: offered 100/s < 200 req/s"]


def test_each_line_is_judged_on_its_own_half():
    goal = api_load.GOALS["households"]
    assert (goal.checks(None), goal.checks(200)) == ("≥200/s", "p99≤50ms")
    assert goal.judge(_figures(rps=450, p99_ms=120)) == []  # saturation: throughput only
    assert goal.judge(_figures(rps=190, p99_ms=30, unsent=0), rate=200) == []  # at the rate: p99 only
    assert goal.judge(_figures(p99_ms=51, unsent=0), rate=200) == ["p99 51.0 > 50 ms"]
