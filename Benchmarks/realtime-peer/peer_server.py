"""The peer of `pipewright-bench realtime`: the same realtime job as Pipewright, on python-socketio 5.

One process, aiohttp + uvloop, Socket.IO v5 over WebSocket (https://python-socketio.readthedocs.io/).
It offers what the benchmark's viewers and producer use of Pipewright:

- CONNECT with the auth payload {"token": "pw_..."}; the token is checked against the SHA-256 digest of the
  environment variable PEER_TOKEN (Pipewright stores tokens as SHA-256 digests too); a wrong one is refused
  with 44{"message": "unauthorized"};
- `subscribe_pipeline_status {"execution_id", "after_seq"}` with the ack
  {"ok": true, "status": "BUILDING", "execution_id", "after_seq"}; the viewer joins the execution's room;
- `POST /api/executions/{id}/logs?step=NAME` (Bearer token, text body, streamed): each chunk's complete
  lines get the next `seq` numbers and go out as `pipeline_logs`
  {"execution_id", "step": {"uuid": "", "name", "status": "UNKNOWN"}, "lines": [{"seq", "step", "text"}]}
  (the shape of Pipewright's event for ingested lines); the answer is {"lines_stored", "highest_seq"};
- `GET /health` -> 200.

Two fan-out modes:
- `plain`: every chunk is emitted to the room as it is read (the request waits for each emit);
- `merge`: chunks are queued; one task emits everything queued since its last emit as one event, once for
  all viewers (python-socketio encodes a room emit once and sends the same packet to every member).

Usage: PEER_TOKEN=pw_... peer_server.py --port PORT --mode plain|merge
"""

import argparse
import asyncio
import hashlib
import hmac
import json
import os

import socketio
import uvloop
from aiohttp import web


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mode", choices=["plain", "merge"], required=True)
    args = parser.parse_args()
    expected = hashlib.sha256(os.environ["PEER_TOKEN"].encode()).digest()

    def token_ok(token):
        if not isinstance(token, str) or not token.startswith("pw_"):
            return False
        return hmac.compare_digest(hashlib.sha256(token.encode()).digest(), expected)

    sio = socketio.AsyncServer(
        async_mode="aiohttp", cors_allowed_origins="*", transports=["websocket"], max_http_buffer_size=1_000_000
    )
    app = web.Application()
    sio.attach(app)
    highest = {}  # execution id -> highest seq stored
    queues = {}  # execution id -> lines waiting for the merge task (merge mode)
    wakeups = {}  # execution id -> asyncio.Event

    @sio.event
    async def connect(sid, environ, auth):
        if not token_ok((auth or {}).get("token")):
            raise socketio.exceptions.ConnectionRefusedError("unauthorized")

    @sio.on("subscribe_pipeline_status")
    async def subscribe(sid, data):
        execution_id = int(data["execution_id"])
        after_seq = min(int(data.get("after_seq") or 0), highest.get(execution_id, 0))
        await sio.enter_room(sid, f"execution:{execution_id}")
        return {"ok": True, "status": "BUILDING", "execution_id": execution_id, "after_seq": after_seq}

    def payload(execution_id, step, lines):
        return {
            "execution_id": execution_id,
            "step": {"uuid": "", "name": step, "status": "UNKNOWN"},
            "lines": lines,
        }

    async def merge_task(execution_id, step):
        queue = queues[execution_id]
        wake = wakeups[execution_id]
        while True:
            await wake.wait()
            wake.clear()
            if queue:
                lines = queue[:]
                queue.clear()
                await sio.emit("pipeline_logs", payload(execution_id, step, lines), room=f"execution:{execution_id}")

    async def ingest(request):
        if not token_ok(request.headers.get("Authorization", "").removeprefix("Bearer ")):
            return web.json_response({"error": {"code": "unauthenticated"}}, status=401)
        execution_id = int(request.match_info["id"])
        step = request.query.get("step", "main")
        room = f"execution:{execution_id}"
        if args.mode == "merge" and execution_id not in queues:
            queues[execution_id] = []
            wakeups[execution_id] = asyncio.Event()
            asyncio.get_running_loop().create_task(merge_task(execution_id, step))
        stored = 0
        rest = b""
        async for chunk in request.content.iter_any():
            rest += chunk
            *complete, rest = rest.split(b"\n")
            if not complete:
                continue
            seq = highest.get(execution_id, 0)
            lines = []
            for raw in complete:
                seq += 1
                lines.append({"seq": seq, "step": step, "text": raw.decode("utf-8", "replace")})
            highest[execution_id] = seq
            stored += len(lines)
            if args.mode == "plain":
                await sio.emit("pipeline_logs", payload(execution_id, step, lines), room=room)
            else:
                queues[execution_id].extend(lines)
                wakeups[execution_id].set()
        return web.json_response({"lines_stored": stored, "highest_seq": highest.get(execution_id, 0)})

    async def health(_request):
        return web.Response(text=json.dumps({"status": "ok"}), content_type="application/json")

    app.router.add_post("/api/executions/{id}/logs", ingest)
    app.router.add_get("/health", health)
    uvloop.install()
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
