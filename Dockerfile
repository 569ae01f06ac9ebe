# syntax=docker/dockerfile:1
# One image for every service; the compose file picks the service with its command,
# e.g. `docker run IMAGE ingest`. Health checks live in docker-compose.yml.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY migrations ./migrations
RUN pip install .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN useradd --system --user-group --uid 10001 --create-home --home-dir /home/voc voc
COPY --from=build /opt/venv /opt/venv
USER voc
WORKDIR /home/voc
# api (API_PORT) and ingest (INGEST_PORT); scoring and migrate listen on nothing.
EXPOSE 8080 8081
# No default service: `voc` alone prints the list of commands.
ENTRYPOINT ["voc"]
