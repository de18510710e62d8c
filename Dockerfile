# One image for every videogen service: `docker run videogen <service>` runs
# `videogen worker <service>` (gateway, planner, coder, renderer, storage).
FROM python:3.11-slim-bookworm

# The same system packages as a developer machine (one list: scripts/system-packages.sh):
# a C toolchain and Cairo/Pango headers, LaTeX for MathTex, Mesa's EGL for OpenGL.
COPY scripts/system-packages.sh /tmp/system-packages.sh
RUN bash /tmp/system-packages.sh && rm -rf /var/lib/apt/lists/* /tmp/system-packages.sh

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATA_DIR=/data \
    GATEWAY_HOST=0.0.0.0 \
    METRICS_PORT=9100 \
    HOME=/tmp

WORKDIR /app
# The exact, hash-checked versions first (a layer that changes only with the lock), then
# the project itself without resolving anything again.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY videogen ./videogen
RUN pip install --no-deps --no-build-isolation . && pip check \
 && useradd --uid 10001 --no-create-home --home-dir /tmp --shell /usr/sbin/nologin videogen \
 && mkdir -p /data && chown 10001:10001 /data

# Numeric, so Kubernetes can verify runAsNonRoot without resolving a name.
USER 10001
EXPOSE 8000 9100
ENTRYPOINT ["videogen", "worker"]
CMD ["gateway"]
