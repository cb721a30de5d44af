# rtserver image: Python 3.11 slim, the project installed from pyproject.toml, run as a non-root
# user. Build from the repository root:  docker build -t rtserver .
#
# The install is editable on purpose: rtserver/settings.py finds its defaults at
# <parent of the rtserver package>/config/default.toml. With `pip install -e .` the package stays
# in /app, so /app/config/default.toml is found; a plain `pip install .` would move the package
# into site-packages, where there is no config/ directory, and the server would refuse to start.

# The counselor console (/console/): built with Node from its package-lock and web/e2ee's sources;
# only the bundle reaches the final image.
FROM node:20-slim AS console
WORKDIR /src
COPY web/e2ee/src ./web/e2ee/src
COPY web/e2ee/package.json ./web/e2ee/package.json
COPY web/console ./web/console
RUN cd web/console && npm ci --no-audit --no-fund && npm run build

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 rtserver \
    && useradd --system --uid 10001 --gid rtserver --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin rtserver

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# The project itself (see .dockerignore for what stays out).
COPY config/default.toml ./config/default.toml
COPY rtserver ./rtserver
COPY signaling ./signaling
COPY media ./media
COPY rtclient ./rtclient
COPY --from=console /src/web/console/dist ./web/console/dist
RUN pip install --no-deps -e . \
    && python -c "from rtserver.settings import DEFAULT_CONFIG_FILE as f; assert f.is_file(), f" \
    && mkdir -p /data \
    && chown rtserver:rtserver /data

ENV RTSERVER_HOST=0.0.0.0 \
    RTSERVER_PORT=8080 \
    RTSERVER_DATA_DIR=/data \
    RTSERVER_CONSOLE_DIR=/app/web/console/dist

VOLUME ["/data"]
EXPOSE 8080
USER rtserver

# /healthz answers while the process runs; slim has no curl, so ask with Python.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('RTSERVER_PORT', '8080'), timeout=3); sys.exit(0 if r.status == 200 else 1)"]

# web.run_app handles SIGTERM: stop accepting, server.shutdown to sockets, drain, close the store.
STOPSIGNAL SIGTERM
CMD ["rtserver", "serve"]
