"""GET /mcp streams on the real mcpbox-gateway: they stay open, keepalives
come at the configured interval, every event has an increasing id, and a
client that resumes with Last-Event-ID is sent what it missed.

The tool list is changed through the registry / approval stand-ins of
mcp_fakes.py (approve, then revoke, one tool): each change is one
approval.changed event, one catalog refresh and one list_changed.
"""
import json
import time
import urllib.error
import urllib.request

import pytest

from conftest import wait_for
from mcp_fakes import StandIns
from test_mcp_http import Gateway, Stream, start_broker, start_gateway, stop_cleanly

LIST_CHANGED = '{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}'


def next_event(stream, timeout=10):
    """The next SSE event as {"id", "event", "data"}; keepalive comments
    are skipped (and counted on the stream)."""
    deadline = time.monotonic() + timeout
    while True:
        block = stream.read_until(b"\n\n", timeout=max(0.1, deadline - time.monotonic()))
        fields = {}
        lines = block.decode().strip("\n").split("\n")
        if all(line.startswith(":") for line in lines):
            stream.comments = getattr(stream, "comments", 0) + 1
            continue
        for line in lines:
            name, _, value = line.partition(":")
            fields[name] = value[1:] if value.startswith(" ") else value
        return fields


def open_stream(gw, session, last_event_id=None):
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    return Stream(gw.port, gw.host, session, headers=headers)


@pytest.fixture
def listing(procs, tmpdir_short):
    """Broker, the registry/approval stand-ins with one approvable tool,
    and a gateway (keepalive 1 s)."""
    start_broker(procs, tmpdir_short)
    fakes = StandIns(tmpdir_short)
    sid = fakes.registry.add_server("demo")
    tid = fakes.registry.add_tool_unchecked(sid, "echo", "async def main():\n    return 1\n")
    proc, port = start_gateway(procs, tmpdir_short)
    gw = Gateway(proc, port)
    gw.fakes, gw.tool_id = fakes, tid
    gw.visible = False

    def change():
        """Flip the tool's visibility and wait until the gateway lists it so."""
        if gw.visible:
            fakes.approval.admin_revoke(tid)
        else:
            fakes.approval.admin_approve(tid)
        gw.visible = not gw.visible
        probe = gw.probe_session
        wait_for(lambda: ("demo__echo" in [t["name"] for t in gw.list_all(probe)]) == gw.visible,
                 timeout=5, what="the gateway saw the change")
    gw.change = change
    gw.probe_session = gw.initialize()
    yield gw
    if proc.poll() is None:
        stop_cleanly(proc)
    fakes.stop()


def test_stream_stays_open_and_keepalives_follow_the_setting(listing, procs, tmpdir_short):
    """The stream used to close 10 s after it opened (lws's HTTP timeout),
    so with the default 15 s interval no keepalive was ever sent. Here: one
    stream at 1 s and one at the default 15 s, both open after 21 s."""
    fast = open_stream(listing, listing.initialize())
    default_proc, default_port = start_gateway(procs, tmpdir_short, "--mcp-keepalive-s", "15")
    default_gw = Gateway(default_proc, default_port)
    slow = open_stream(default_gw, default_gw.initialize())
    assert fast.status == 200 and slow.status == 200
    started = time.monotonic()
    fast_comments, slow_at = 0, None
    while time.monotonic() - started < 21:
        for stream in (fast, slow):
            try:
                stream.read_until(b": keepalive\n\n", timeout=0.5)
            except AssertionError:
                continue
            if stream is fast:
                fast_comments += 1
            elif slow_at is None:
                slow_at = time.monotonic() - started
    assert fast_comments >= 17, fast_comments          # about one a second for 21 s
    assert slow_at is not None and 13.5 < slow_at < 17.5, slow_at
    # both are still open: a change reaches them (both gateways hear the
    # same approval.changed)
    listing.change()
    for stream in (fast, slow):
        assert next_event(stream)["data"] == LIST_CHANGED
    fast.close()
    slow.close()
    stop_cleanly(default_proc)


def test_events_have_increasing_ids_and_a_priming_event(listing):
    session = listing.initialize()
    stream = open_stream(listing, session)
    assert stream.status == 200
    # a 2025-11-25 session's stream starts with an id and no data
    priming = next_event(stream)
    assert priming.get("data") == "" and priming["id"].isdigit(), priming
    ids = [int(priming["id"])]
    for _ in range(5):
        listing.change()
        event = next_event(stream)
        assert event["event"] == "message" and event["data"] == LIST_CHANGED, event
        ids.append(int(event["id"]))
    assert ids[1:] == list(range(ids[1], ids[1] + 5)), ids   # one per change, in order
    assert ids[1] > ids[0]
    stream.close()


def test_resume_with_last_event_id_replays_what_was_missed(listing):
    session = listing.initialize()
    stream = open_stream(listing, session)
    next_event(stream)                                      # priming
    listing.change()
    seen = int(next_event(stream)["id"])
    stream.close()
    # three changes while no stream is open
    for _ in range(3):
        listing.change()
    resumed = open_stream(listing, session, str(seen))
    assert resumed.status == 200
    replayed = [next_event(resumed) for _ in range(3)]
    assert [int(e["id"]) for e in replayed] == [seen + 1, seen + 2, seen + 3]
    assert all(e["data"] == LIST_CHANGED for e in replayed)
    # then live events go on from there
    listing.change()
    assert int(next_event(resumed)["id"]) == seen + 4

    # resuming replaces a stream the server still thinks is open (the
    # client lost it without the server noticing); a plain second GET is 409
    status, _, _ = listing.request("GET", None, {"Accept": "text/event-stream",
                                                 "Mcp-Session-Id": session})
    assert status == 409
    again = open_stream(listing, session, str(seen + 4))
    assert again.status == 200
    assert resumed.closed()
    listing.change()
    assert int(next_event(again)["id"]) == seen + 5
    again.close()


def test_resume_from_an_id_not_kept_gets_one_fresh_list_changed(listing):
    session = listing.initialize()
    listing.change()
    listing.change()
    # an id beyond the newest is not one of ours: what happened is unknown,
    # and one list_changed (idempotent) is the complete recovery
    stream = open_stream(listing, session, "999999")
    assert stream.status == 200
    event = next_event(stream)
    assert event["data"] == LIST_CHANGED
    newest = int(event["id"])
    listing.change()
    assert int(next_event(stream)["id"]) == newest + 1
    stream.close()
    # the gap is counted where an operator looks
    try:       # 503 here: the stand-ins are not every service
        body = urllib.request.urlopen(f"http://127.0.0.1:{listing.port}/health", timeout=10).read()
    except urllib.error.HTTPError as e:
        body = e.read()
    health = json.loads(body)
    assert health["gateway"]["sse_replay_gaps"] == 1, health["gateway"]
    log = stop_cleanly(listing.proc)
    assert "not among the 256 events kept" in log


def test_events_before_the_session_are_not_replayed(listing):
    first = open_stream(listing, listing.initialize())
    newest = int(next_event(first)["id"])                  # priming: the newest id
    listing.change()
    listing.change()
    first.close()
    session = listing.initialize()
    # "0": everything from the start, but the session began after newest + 2
    stream = open_stream(listing, session, "0")
    assert stream.status == 200
    listing.change()
    event = next_event(stream)
    assert event["data"] == LIST_CHANGED
    assert int(event["id"]) == newest + 3, (event, newest)
    stream.close()


@pytest.mark.parametrize("bad", ["abc", "-1", "01", "1 2", "18446744073709551616", "x" * 40])
def test_malformed_last_event_id_is_400(listing, bad):
    session = listing.initialize()
    status, _, body = listing.request("GET", None, {"Accept": "text/event-stream",
                                                    "Mcp-Session-Id": session,
                                                    "Last-Event-ID": bad})
    assert status == 400, body
    assert b"Last-Event-ID" in body
