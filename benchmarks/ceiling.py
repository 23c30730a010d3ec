"""The ceiling of `make bench-api`: a bare Flask app that returns the JSON it got.

    gunicorn -c python:benchmarks.ceiling 'benchmarks.ceiling:create_app()' --bind HOST:PORT

Bare Flask as gunicorn serves it out of the box: 2 stock gthread workers x 16 threads, the API's
worker and thread counts, with nothing behind it: no authentication, no validation, no broker, no
database. What the API reaches next to it, in the same run on the same machine, is the share of the
ceiling that the gateway's own work leaves. The API's worker class keeps a busy keep-alive
connection on its thread (infra/runtime/gunicorn_worker.py); that saving is the API's, so the
ceiling keeps stock gthread (on this echo the same worker saved nothing at 16 and 64 connections
and ~40% on one: docs/benchmarks-api.md).
"""

from __future__ import annotations

from flask import Flask, jsonify, request

workers = 2
worker_class = "gthread"
threads = 16
accesslog = None


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/echo")
    def echo():
        return jsonify(request.get_json()), 200

    return app
