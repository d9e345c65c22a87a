"""Pieces of a stand-in Hugging Face Hub for the end-to-end tests (hub_test.py, eval_hub_test.py).

The hub answers on 127.0.0.1 and its "CDN" on 127.0.0.2 (127.0.0.1 where that cannot be bound):
LFS files are a 302 from the hub, carrying X-Linked-Etag / X-Linked-Size, to the CDN, as the real
hub does. A test subclasses Handler with its do_GET and starts both servers with start().
"""
import hashlib
import http.server
import json
import threading


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, headers, body=b"", length=None):
        """One answer and close; `length` overrides Content-Length (a transfer cut short)."""
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True

    def error(self, status, code, msg):
        headers = [("X-Error-Message", msg), ("Content-Type", "application/json")]
        if code:
            headers.append(("X-Error-Code", code))
        self.send(status, headers, json.dumps({"error": msg}).encode())

    def do_HEAD(self):
        self.do_GET()

    def lfs_redirect(self, commit, data, cdn):
        """The hub's 302 for an LFS file whose bytes the CDN serves at /cdn/<sha256>."""
        sha = hashlib.sha256(data).hexdigest()
        host, port = cdn.server_address[:2]
        headers = [("X-Repo-Commit", commit),
                   ("ETag", '"%s"' % git_blob_sha1(b"pointer " + sha.encode())),
                   ("X-Linked-Etag", '"%s"' % sha), ("X-Linked-Size", str(len(data))),
                   ("Location", "http://%s:%d/cdn/%s?X-Amz-Expires=3600" % (host, port, sha))]
        return self.send(302, headers, b"Found")


def start(handler):
    """(hub, cdn, endpoint): both servers running in daemon threads."""
    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    try:
        cdn = http.server.ThreadingHTTPServer(("127.0.0.2", 0), handler)
    except OSError:
        cdn = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    for s in (hub, cdn):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    return hub, cdn, "http://127.0.0.1:%d" % hub.server_address[1]


def stop(*servers):
    for s in servers:
        s.shutdown()
        s.server_close()
