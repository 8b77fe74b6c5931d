#!/usr/bin/env python3
"""Realtime test client driven by Tests/AppTests/RealtimeTests.swift.

Speaks to Pipewright the way real clients do: the real python-socketio client (Socket.IO v5 over
Engine.IO v4, WebSocket transport), websocket-client for the plain `/api/ws` endpoint and for raw
Engine.IO frames, and `requests` for Server-Sent Events. Prints one JSON object per line on stdout:
  {"type": "ack", "data": …}            the ack of a client request
  {"type": "event", "name": …, "data": …}   a server event
  {"type": "connect_error", "data": …}  CONNECT refused
  {"type": "stopped", "last_seq": n}   the client stopped on purpose (--stop-after-lines)
  {"type": "joined", …}                 with --join-lines, instead of pipeline_logs events: one whole line,
                                        its pieces joined as docs/realtime.md "Frame limit" says
  {"type": "done", …}                   normal end ("max_frame_bytes": the largest frame/record received)
Exit status 0 unless the connection itself failed unexpectedly.
"""
import argparse
import json
import sys
import threading
import time


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class Tracker:
    """Follows line seqs and decides when to stop."""

    def __init__(self, args):
        self.args = args
        self.last_seq = args.after_seq
        self.lines = 0
        self.done = threading.Event()
        self.stop_now = threading.Event()
        self.statuses = []
        self.max_frame_bytes = 0
        self.pending = ""
        self.pending_seqs = []

    def note_frame(self, text):
        """Remembers the size in bytes of one received frame (WebSocket message or SSE record)."""
        self.max_frame_bytes = max(self.max_frame_bytes, len(text.encode("utf-8")))

    def on_event(self, name, data):
        if self.stop_now.is_set():
            return
        if not (self.args.join_lines and name == "pipeline_logs"):
            out({"type": "event", "name": name, "data": data, "at": time.time()})
        if name == "pipeline_logs":
            for line in data.get("lines", []):
                if self.args.join_lines:
                    self.join(line)
                self.last_seq = max(self.last_seq, line["seq"])
                self.lines += 1
                if self.args.stop_after_lines and self.lines >= self.args.stop_after_lines:
                    self.stop_now.set()
                    return
        elif name == "pipeline_status":
            self.statuses.append(data.get("status"))
            if data.get("status") in self.args.until_status:
                self.done.set()
        elif name == "log_timeout" and "log_timeout" in self.args.until_status:
            self.done.set()
        if self.args.until_seq and self.last_seq >= self.args.until_seq:
            self.done.set()

    def join(self, line):
        """Joins the text of consecutive pieces up to the first one without `continues`."""
        import hashlib
        self.pending += line["text"]
        self.pending_seqs.append(line["seq"])
        if not line.get("continues"):
            data = self.pending.encode("utf-8")
            out({"type": "joined", "seqs": self.pending_seqs, "bytes": len(data),
                 "sha256": hashlib.sha256(data).hexdigest(), "head": self.pending[:40]})
            self.pending, self.pending_seqs = "", []

    def wait(self):
        deadline = time.time() + self.args.timeout
        while time.time() < deadline:
            if self.done.is_set() or self.stop_now.is_set():
                return
            time.sleep(0.01)


def subscription(args, after_seq):
    request = {"after_seq": after_seq}
    if args.pipeline:
        request["pipeline_id"] = args.pipeline
    else:
        request["execution_id"] = args.execution
    return request


def run_socketio(args):
    import socketio
    import websocket

    tracker = Tracker(args)
    # python-engineio runs each message handler in its own thread, so handlers may see events out of
    # order. Events are therefore tracked where frames are read (one thread, wire order): by wrapping
    # websocket-client's WebSocket.recv, the usual way to capture raw frames.
    original_recv = websocket.WebSocket.recv

    def recv(self):
        frame = original_recv(self)
        if isinstance(frame, str):
            tracker.note_frame(frame)
        if isinstance(frame, str) and frame.startswith("42["):
            try:
                name, data = json.loads(frame[2:])[:2]
            except ValueError:
                name = None
            if name in ("pipeline_status", "pipeline_logs", "log_error", "log_timeout"):
                tracker.on_event(name, data)
        return frame

    websocket.WebSocket.recv = recv
    options = {}
    if args.cafile:
        # wss:// against the service's own (self-signed) certificate: trust exactly that certificate.
        import requests
        session = requests.Session()
        session.verify = args.cafile
        options["http_session"] = session
    client = socketio.Client(reconnection=args.reconnect, reconnection_delay=0.2, reconnection_delay_max=0.5, **options)
    headers = {"Authorization": "Bearer " + args.header_token} if args.header_token else {}
    if args.cookie:
        headers["Cookie"] = args.cookie

    @client.event
    def connect_error(data):
        out({"type": "connect_error", "data": data})

    @client.event
    def connect():
        out({"type": "connected"})
        if args.execution or args.pipeline:
            # On every (re)connect, resume after the last line received (`after_seq`, docs/realtime.md
            # "Socket.IO").
            def subscribe():
                ack = client.call("subscribe_pipeline_status", subscription(args, tracker.last_seq), timeout=10)
                out({"type": "ack", "data": ack})
            threading.Thread(target=subscribe, daemon=True).start()

    @client.event
    def disconnect(reason=None):
        out({"type": "disconnected", "reason": str(reason)})
        if not args.reconnect:
            tracker.done.set()


    auth = {"token": args.token} if args.token is not None else None
    try:
        client.connect(args.url, transports=["websocket"], auth=auth, headers=headers, wait_timeout=5)
    except socketio.exceptions.ConnectionError as error:
        out({"type": "connect_failed", "error": str(error)})
        return 3
    if args.call:
        name, payload = args.call.split(":", 1)
        data = json.loads(payload)
        if args.pad:
            data["padding"] = "x" * args.pad
        out({"type": "ack", "data": client.call(name, data, timeout=10)})
    tracker.wait()
    if tracker.stop_now.is_set():
        # Abrupt stop mid-stream: drop the transport without a clean Socket.IO disconnect.
        client.eio.disconnect(abort=True) if hasattr(client.eio, "disconnect") else None
        out({"type": "stopped", "last_seq": tracker.last_seq})
        return 0
    out({"type": "done", "last_seq": tracker.last_seq, "connected": client.connected,
         "max_frame_bytes": tracker.max_frame_bytes})
    client.disconnect()
    return 0


def run_plain_websocket(args):
    import websocket

    tracker = Tracker(args)
    url = args.url.replace("http://", "ws://").replace("https://", "wss://") + "/api/ws"
    socket = websocket.create_connection(url, header=["Authorization: Bearer " + args.token], timeout=args.timeout)
    socket.send(json.dumps({"event": "subscribe_pipeline_status", "data": subscription(args, args.after_seq), "id": 1}))
    if args.raw_send:
        socket.send(args.raw_send)
    deadline = time.time() + args.timeout
    while time.time() < deadline and not tracker.done.is_set() and not tracker.stop_now.is_set():
        socket.settimeout(max(0.1, deadline - time.time()))
        try:
            received = socket.recv()
            tracker.note_frame(received)
            message = json.loads(received)
        except websocket.WebSocketTimeoutException:
            break
        except (websocket.WebSocketConnectionClosedException, ConnectionError, ValueError):
            out({"type": "disconnected"})
            break
        if message.get("event") == "ack":
            out({"type": "ack", "id": message.get("id"), "data": message.get("data")})
        elif message.get("event") == "error":
            out({"type": "error", "data": message.get("data")})
        else:
            tracker.on_event(message["event"], message["data"])
    try:
        socket.close()
    except Exception:
        pass
    out({"type": "stopped" if tracker.stop_now.is_set() else "done", "last_seq": tracker.last_seq,
         "max_frame_bytes": tracker.max_frame_bytes})
    return 0


def run_sse(args):
    import requests

    tracker = Tracker(args)
    headers = {"Authorization": "Bearer " + args.token, "Accept": "text/event-stream"}
    if args.after_seq:
        headers["Last-Event-ID"] = str(args.after_seq)
    url = "%s/api/executions/%d/events" % (args.url, args.execution)
    with requests.get(url, headers=headers, stream=True, timeout=args.timeout) as response:
        out({"type": "response", "status": response.status_code,
             "headers": {k.lower(): v for k, v in response.headers.items()}})
        if response.status_code != 200:
            out({"type": "done", "body": response.text})
            return 0
        event, data, last_id = None, [], None
        record = 0  # bytes of the current record: its lines, their newlines and the blank line
        deadline = time.time() + args.timeout
        for raw in response.iter_lines(decode_unicode=True):
            if time.time() > deadline:
                break
            record += len(raw.encode("utf-8")) + 1
            if raw == "":
                tracker.max_frame_bytes = max(tracker.max_frame_bytes, record)
                record = 0
                if data:
                    out({"type": "sse_id", "id": last_id})
                    tracker.on_event(event or "message", json.loads("\n".join(data)))
                event, data = None, []
                if tracker.done.is_set() or tracker.stop_now.is_set():
                    break
                continue
            if raw.startswith(":"):
                out({"type": "comment", "text": raw})
                continue
            field, _, value = raw.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id":
                last_id = value
    out({"type": "stopped" if tracker.stop_now.is_set() else "done", "last_seq": tracker.last_seq,
         "max_frame_bytes": tracker.max_frame_bytes})
    return 0


def run_silent_engineio(args):
    """Connects at the Engine.IO level, joins `/`, then never answers pings: the server must drop us."""
    import websocket

    url = args.url.replace("http://", "ws://").replace("https://", "wss://") + "/socket.io/?EIO=4&transport=websocket"
    socket = websocket.create_connection(url, timeout=args.timeout)
    opened = socket.recv()
    out({"type": "open", "frame": opened})
    socket.send("40" + json.dumps({"token": args.token}))
    out({"type": "frame", "frame": socket.recv()})
    started = time.time()
    pings = 0
    try:
        while time.time() - started < args.timeout:
            frame = socket.recv()
            if frame == "2":
                pings += 1
            elif frame == "" or frame is None:
                break
    except Exception as error:  # closed by the server
        out({"type": "closed", "after_s": time.time() - started, "pings": pings, "error": type(error).__name__})
        return 0
    out({"type": "closed", "after_s": time.time() - started, "pings": pings, "error": None})
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["socketio", "ws", "sse", "silent"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token")
    parser.add_argument("--header-token")
    parser.add_argument("--cafile", help="CA certificate (PEM) to verify the server's TLS certificate")
    parser.add_argument("--cookie", help="Cookie header for the upgrade request (session cookie auth)")
    parser.add_argument("--execution", type=int)
    parser.add_argument("--pipeline", type=int)
    parser.add_argument("--after-seq", type=int, default=0)
    parser.add_argument("--until-seq", type=int, default=0)
    parser.add_argument("--until-status", default="")
    parser.add_argument("--stop-after-lines", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=15)
    parser.add_argument("--reconnect", action="store_true")
    parser.add_argument("--call", help="NAME:JSON, a request to send with an ack after connecting")
    parser.add_argument("--pad", type=int, default=0, help="bytes of padding added to --call's payload")
    parser.add_argument("--raw-send", help="an extra raw message for the plain WebSocket")
    parser.add_argument("--join-lines", action="store_true", help="print joined lines instead of pipeline_logs events")
    args = parser.parse_args()
    args.until_status = [s for s in args.until_status.split(",") if s]
    sys.exit({"socketio": run_socketio, "ws": run_plain_websocket, "sse": run_sse, "silent": run_silent_engineio}[args.mode](args))


if __name__ == "__main__":
    main()
