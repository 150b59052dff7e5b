#!/usr/bin/env python3
"""Serves the AWS Lambda Invoke API for Python handlers, so trigger code written for
Lambda runs unchanged against cognate (`serve --lambda-endpoint http://127.0.0.1:PORT`).
No dependencies beyond the standard library.

    python3 tools/lambda_runner/lambda_runner.py --port 3001 \
        pre-signup=handlers.py:lambda_handler  other=mod:fn ...

Each FUNCTION=FILE_OR_MODULE:HANDLER maps a function name (the last part of the
trigger's ARN, `arn:aws:lambda:<region>:<account>:function:<name>`) to a handler. A
handler that raises answers as Lambda does: status 200, `X-Amz-Function-Error:
Unhandled` and `{"errorMessage": ..., "errorType": ...}`. `--port 0` picks a free port
and prints `listening on PORT` first.
"""
import argparse
import importlib
import importlib.util
import json
import os
import sys
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2015-03-31/functions/"


def load(spec):
    target, _, func = spec.rpartition(":")
    if not target or not func:
        raise SystemExit(f"{spec!r}: expected MODULE_OR_FILE:FUNCTION")
    if target.endswith(".py") or os.sep in target:
        name = os.path.splitext(os.path.basename(target))[0]
        loader = importlib.util.spec_from_file_location(name, target)
        module = importlib.util.module_from_spec(loader)
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        loader.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, func)


class Context:
    """The parts of Lambda's context object handlers usually read."""

    def __init__(self, name):
        self.function_name = name
        self.function_version = "$LATEST"
        self.aws_request_id = str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        self.memory_limit_in_mb = 128
        self._deadline = time.time() + 5

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def make_handler(functions):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            sys.stderr.write("lambda_runner: " + fmt % args + "\n")

        def answer(self, status, body, headers=()):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            path = self.path.split("?", 1)[0]
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length)
            if not (path.startswith(PREFIX) and path.endswith("/invocations")):
                return self.answer(404, {"Type": "User", "message": "Unknown path"})
            name = urllib.parse.unquote(path[len(PREFIX):-len("/invocations")])
            name = name.rsplit(":", 1)[-1] if name.startswith("arn:") else name
            fn = functions.get(name)
            if fn is None:
                return self.answer(404, {"Type": "User", "message": f"Function not found: {name}"})
            try:
                event = json.loads(payload or b"null")
                result = fn(event, Context(name))
            except Exception as e:  # the function's error, as Lambda reports it
                return self.answer(200, {
                    "errorMessage": str(e),
                    "errorType": type(e).__name__,
                    "stackTrace": traceback.format_exc().splitlines(),
                }, [("X-Amz-Function-Error", "Unhandled")])
            if isinstance(result, (bytes, str)):
                data = result.encode() if isinstance(result, str) else result
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                return self.wfile.write(data)
            return self.answer(200, result)

    return Handler


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=3001)
    p.add_argument("functions", nargs="+", metavar="NAME=MODULE:HANDLER")
    args = p.parse_args(argv)
    functions = {}
    for spec in args.functions:
        name, _, handler = spec.partition("=")
        functions[name] = load(handler)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(functions))
    server.daemon_threads = True
    print(f"listening on {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
