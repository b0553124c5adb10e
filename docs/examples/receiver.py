"""A webhook receiver for the walk-through: verifies every delivery with the
official Standard Webhooks library and prints the event.

    pip install standardwebhooks
    KYCD_WEBHOOK_SECRET=whsec_… python3 docs/examples/receiver.py   # listens on :9000
"""
import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

webhook = Webhook(os.environ["KYCD_WEBHOOK_SECRET"])


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            event = webhook.verify(body, dict(self.headers))
        except WebhookVerificationError as e:
            print(f"refused a delivery: {e}")
            self.send_response(401)
            self.end_headers()
            return
        print(f"verified {event['type']}: {json.dumps(event['data'])}", flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", int(os.environ.get("PORT", "9000"))), Receiver).serve_forever()
