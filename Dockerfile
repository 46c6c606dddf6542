# syntax=docker/dockerfile:1
# Build stage: wheels for the app and its pinned dependencies.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY fikafollow ./fikafollow
COPY bot ./bot
COPY scheduler ./scheduler
COPY messages ./messages
COPY store ./store
COPY coordinator ./coordinator
COPY reports ./reports
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Run stage: no compiler, no sources beyond the installed package, not root.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 fika
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER fika
WORKDIR /home/fika
ENV FIKAFOLLOW_DATABASE_URL=sqlite+aiosqlite:////home/fika/data/fikafollow.db \
    FIKAFOLLOW_PHOTO_DIR=/home/fika/data/photos \
    FIKAFOLLOW_HOST=0.0.0.0 \
    FIKAFOLLOW_PORT=8000 \
    PYTHONUNBUFFERED=1
RUN mkdir -p /home/fika/data
VOLUME ["/home/fika/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status == 200 else 1)"
CMD ["fikafollow", "serve"]
