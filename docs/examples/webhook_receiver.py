"""A Kefu webhook receiver: prints each event, after checking its signature.

    KEFU_WEBHOOK_SECRET=whsec_… python docs/examples/webhook_receiver.py 8765

Subscribe http://127.0.0.1:8765/ on /integrations/ (or POST /api/v1/webhooks) and copy the
secret shown there. Only the standard library is used.
"""

import hashlib
import hmac
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("KEFU_WEBHOOK_SECRET", "")
WINDOW = 300  # seconds: older (or future) timestamps are refused as replays
seen: set[str] = set()  # event ids already handled (keep them in your database in real use)


def verify(secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None) -> bool:
    """X-Kefu-Signature is "v1=" + hex HMAC-SHA256(secret, "<X-Kefu-Timestamp>.<raw body>")."""
    try:
        if abs((now if now is not None else time.time()) - int(timestamp)) > WINDOW:
            return False
    except ValueError:
        return False
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if not verify(SECRET, self.headers.get("X-Kefu-Timestamp", ""), body, self.headers.get("X-Kefu-Signature", "")):
            self.send_response(401)
            self.end_headers()
            return
        event = json.loads(body)
        if event["id"] not in seen:  # a retry or a redelivery of an event already handled
            seen.add(event["id"])
            print(event["type"], json.dumps(event["data"], ensure_ascii=False), flush=True)
        self.send_response(200)  # any 2xx acknowledges; anything else is retried with back-off
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    print(f"listening on http://127.0.0.1:{port}/", flush=True)
    ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
