# speech-archive: the always-on daemon (see docs/DEPLOY.md).
#   docker build -t speech-archive .
#   docker run -v speech-archive-data:/var/lib/speech-archive -p 127.0.0.1:9464:9464 speech-archive
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: a virtualenv with the locked dependencies and the package --------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/speech-archive
# Runtime dependencies only (not the dev tools in the lock), at the locked versions; this layer
# is rebuilt only when pyproject.toml or requirements.lock change.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > runtime-requirements.txt \
    && /opt/speech-archive/bin/pip install -r runtime-requirements.txt --constraint requirements.lock
COPY README.md ./
COPY archive ./archive
COPY crawler ./crawler
COPY scheduler ./scheduler
COPY speech_archive ./speech_archive
COPY replica ./replica
RUN /opt/speech-archive/bin/pip install --no-deps . \
    && /opt/speech-archive/bin/python -m compileall -q /opt/speech-archive/lib

# --- runtime: the virtualenv, a non-root user, config in /etc, data in a volume ----------------
FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 speech \
    && useradd --system --uid 10001 --gid speech --home-dir /var/lib/speech-archive --no-create-home \
        --shell /usr/sbin/nologin speech \
    && mkdir -p /etc/speech-archive /var/lib/speech-archive \
    && chown speech:speech /var/lib/speech-archive
COPY --from=build /opt/speech-archive /opt/speech-archive
COPY config.toml /etc/speech-archive/config.toml
ENV PATH=/opt/speech-archive/bin:$PATH \
    SPEECH_ARCHIVE_CONFIG=/etc/speech-archive/config.toml \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# The shipped config's sqlite:///data/archive.sqlite3 is relative to this directory, the volume.
WORKDIR /var/lib/speech-archive
VOLUME ["/var/lib/speech-archive"]
USER speech
EXPOSE 9464
# SIGTERM (docker stop) makes the daemon stop scheduling and give crawls [daemon] shutdown_grace
# seconds; give the container more than that before Docker's SIGKILL: docker stop -t 60.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:9464/healthz', timeout=8)"]
ENTRYPOINT ["speech-archive"]
# 0.0.0.0 inside the container so Prometheus can scrape it; publish the port on the host's 127.0.0.1.
CMD ["daemon", "--listen", "0.0.0.0:9464"]
