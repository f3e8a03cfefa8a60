#!/usr/bin/env python3
"""A tiny OAuth 2.0 token introspection endpoint (RFC 7662) for the tests.

The test Dovecot's oauth2 passdb (introspection_mode = post) asks it whether
a bearer token is valid: it POSTs "token=<token>" to /introspect and reads
the JSON answer. A token listed in the tokens file (a JSON object, token to
user name, reread on every request so the harness can add tokens) is
{"active": true, "username": "<user>"}; anything else is {"active": false}.

It listens on 127.0.0.1 only, on a free port, and writes that port to
--port-file (atomically, once it accepts connections). Every token it is
asked about is appended to --log, one per line, so a test can see what
reached the server. It exits when its stdin closes (the test process that
started it is gone) or on SIGTERM. Standard library only.
"""

import argparse
import http.server
import json
import os
import sys
import threading
import urllib.parse

PATH = "/introspect"
MAX_BODY = 64 * 1024


class IntrospectionHandler(http.server.BaseHTTPRequestHandler):
    server_version = "PopbiffTestIntrospection/1"

    def do_POST(self):
        if self.path != PATH:
            self.send_error(404)
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self.send_error(400, "bad Content-Length")
            return
        body = self.rfile.read(length).decode("utf-8", "replace")
        tokens = urllib.parse.parse_qs(body, keep_blank_values=True).get("token", [])
        if len(tokens) != 1:
            self.send_error(400, "exactly one token= expected")
            return
        token = tokens[0]
        self.server.record(token)

        user = self.server.lookup(token)
        if user is not None:
            answer = {"active": True, "username": user, "scope": "mail"}
        else:
            answer = {"active": False}
        data = json.dumps(answer).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        # Requests are in --log; keep the test's output clean.
        pass


class IntrospectionServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, tokens_path, log_path):
        super().__init__(("127.0.0.1", 0), IntrospectionHandler)
        self.tokens_path = tokens_path
        self.log_path = log_path
        self.lock = threading.Lock()

    def lookup(self, token):
        try:
            with open(self.tokens_path, encoding="utf-8") as f:
                tokens = json.load(f)
        except (OSError, ValueError):
            return None
        user = tokens.get(token) if isinstance(tokens, dict) else None
        return user if isinstance(user, str) else None

    def record(self, token):
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(token.replace("\n", "\\n") + "\n")


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", required=True, help="JSON object: token -> user name")
    parser.add_argument("--log", required=True, help="every token asked about, one a line")
    parser.add_argument("--port-file", required=True, help="where to write the port")
    args = parser.parse_args()

    server = IntrospectionServer(args.tokens, args.log)

    def wait_for_parent():
        # The harness holds our stdin open and writes nothing; EOF means
        # it is gone.
        while os.read(sys.stdin.fileno(), 4096):
            pass
        server.shutdown()

    threading.Thread(target=wait_for_parent, daemon=True).start()
    # The socket is listening already (bound and listen()ed in __init__).
    write_atomically(args.port_file, "%d\n" % server.server_address[1])
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
