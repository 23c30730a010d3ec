# syntax=docker/dockerfile:1
# One image for every service of the gateway; the command is chosen at run time, e.g.
#   docker run IMAGE python -m processor
#   docker run IMAGE python -m gateway_api migrate
#   docker run IMAGE gunicorn -c python:panel.gunicorn_conf 'panel:create_app()' --bind 0.0.0.0:8001
# The default command is the merchant API.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: compilers live here only; it turns every dependency into a wheel -----------------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Only pyproject.toml: the wheel layer is rebuilt when dependencies change, not when code does.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
      > requirements.txt \
 && pip wheel --wheel-dir /wheels -r requirements.txt \
 && cp requirements.txt /wheels/

# --- runtime: the interpreter, the wheels installed, the sources, nothing to compile with ---------
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 gateway \
 && useradd --system --uid 10001 --gid gateway --home-dir /app --no-create-home --shell /usr/sbin/nologin gateway
# The wheels are bind-mounted from the builder, so they never become a layer of this image.
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels -r /wheels/requirements.txt
WORKDIR /app
COPY infra ./infra
COPY processor ./processor
COPY gateway_api ./gateway_api
COPY panel ./panel
COPY --chmod=0755 docker/healthcheck.py /usr/local/bin/gateway-healthcheck
# Byte-compile at build time: at run time the root filesystem may be read-only.
# var/ holds the SQLite files of a dev run (DATABASE_URL defaults); deployments use MySQL.
RUN python -m compileall -q /app \
 && mkdir -p /app/var \
 && chown gateway:gateway /app/var
USER 10001:10001
EXPOSE 8000 8001 9101 9102
# Healthy when the service of this container answers on its port (API, panel or metrics port);
# compose and Kubernetes give each service a precise probe of its own.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 CMD ["gateway-healthcheck"]
CMD ["gunicorn", "-c", "python:gateway_api.gunicorn_conf", "gateway_api:create_app()", "--bind", "0.0.0.0:8000"]
