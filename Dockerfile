# BRENT in a container: `docker compose up -d` (compose.yaml), or
#   docker build -t brent . && docker run -d --init --env-file credentials.env \
#     -v brent-data:/app/data -v brent-logs:/app/logs --restart unless-stopped brent
# Settings come from the environment (--env-file credentials.env); the image holds no secret.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
FROM ${PYTHON_IMAGE}

# ffmpeg and libopus from the distribution, as bin/setup installs them on Debian.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ffmpeg libopus0 ca-certificates \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --uid 10001 --user-group --create-home --home-dir /home/brent brent

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# The pinned packages first: a code change does not reinstall them.
COPY requirements.txt /app/requirements.txt
RUN python -m venv /opt/venv && pip install --no-cache-dir -r /app/requirements.txt

WORKDIR /app
COPY --chown=root:root . /app
RUN mkdir -p /app/data /app/logs && chown brent:brent /app/data /app/logs

USER brent
# The queue, playlists (SQLite) and the health socket; the logs.
VOLUME ["/app/data", "/app/logs"]

# Healthy only while the bot is connected to Discord, its voice clocks run and its store answers.
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 CMD ["python", "main.py", "--health"]

# SIGTERM (docker stop) saves the queue and stops every ffmpeg; compose gives it 30 s.
STOPSIGNAL SIGTERM
CMD ["python", "main.py"]
