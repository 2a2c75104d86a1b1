# nmrf-bot in one container: the bot, its reminder planner and outbox, and
# /healthz (see README, "Running it in production"). With compose.yaml it
# runs beside PostgreSQL: `docker compose up -d`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The bot never runs as root: a system user of its own, whose only writable
# place is /data (the evidence files a focal point sends).
RUN groupadd --system --gid 10001 nmrf \
 && useradd --system --uid 10001 --gid nmrf --home-dir /data --no-create-home --shell /usr/sbin/nologin nmrf \
 && mkdir -p /data /etc/nmrf-bot \
 && chown nmrf:nmrf /data

# Only what the package needs (.dockerignore keeps secrets, databases and the
# virtual environment out); installed, then the sources are dropped.
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY storage ./storage
COPY messages ./messages
RUN pip install . && rm -rf /src

# The configuration the image runs with; compose.yaml mounts yours over it.
COPY docker/config.toml /etc/nmrf-bot/config.toml

USER nmrf
WORKDIR /data
VOLUME /data
EXPOSE 8080

# 200 while the database answers and every loop runs; 503 otherwise (needs
# [http] health = true and host 0.0.0.0 or 127.0.0.1 on port 8080).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]

# The schema first, so a new image upgrades the database it finds; then the
# bot, exec'd as PID 1 so `docker stop` (SIGTERM) stops it cleanly.
ENTRYPOINT ["/bin/sh", "-c", "nmrf-bot --config /etc/nmrf-bot/config.toml db upgrade && exec nmrf-bot --config /etc/nmrf-bot/config.toml run --log-format json \"$@\"", "nmrf-bot"]
