"""The ceiling of `make bench-api`: a bare Flask app that returns the JSON it got.

    gunicorn -c python:benchmarks.ceiling 'benchmarks.ceiling:create_app()' --bind HOST:PORT

Served the way the API is (gunicorn, 2 gthread workers x 16 threads), with nothing behind it: no
authentication, no validation, no broker, no database. What the API reaches next to it, in the same
run on the same machine, is the share of the ceiling that the gateway's own work leaves.
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
