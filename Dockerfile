# syntax=docker/dockerfile:1
# The BFF as a container (ECS/Fargate, Kubernetes, anywhere): non-root, health-checked,
# configured only from BFF_* environment variables (or BFF_SECRETS_ARN). Use Redis or DynamoDB
# as the session store (BFF_SESSION_STORE) when more than one container runs. docs/deploy.md.
#
# Layout: /app mirrors the repository (bff/, content/, spa-shell/, infra/), which is where
# bff/settings.py looks for the bundled copy and the SPA shell (REPO_ROOT = the folder holding
# bff/); third-party packages live in /app/deps. The Lambda artifact (Makefile) has the same
# layout under /var/task. Neither ships the dev stack (dev/, the bff-dev distribution) nor its
# dependencies: the runtime dependencies of pyproject.toml are the product's (docs/layout.md).

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
# The dependencies pyproject.toml declares (one source of truth), installed apart from the code.
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > requirements.txt \
 && pip install --no-cache-dir --no-compile --target /app/deps -r requirements.txt
COPY bff ./bff
COPY content ./content
COPY spa-shell ./spa-shell
COPY infra/routes*.toml ./infra/
# The hashed SPA (BFF_SPA_DIR): assets are hashed once here instead of at every start-up.
RUN PYTHONPATH=/src:/app/deps python -m bff.cli build-spa --out /app/spa \
 && find /src/bff -name __pycache__ -type d -prune -exec rm -rf {} +

FROM python:3.11-slim-bookworm
ENV PYTHONPATH=/app:/app/deps \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BFF_SPA_DIR=/app/spa
RUN groupadd --system --gid 10001 bff \
 && useradd --system --uid 10001 --gid bff --home-dir /nonexistent --shell /usr/sbin/nologin bff
WORKDIR /app
COPY --from=build /app/deps /app/deps
COPY --from=build /app/spa /app/spa
COPY --from=build /src/bff /app/bff
COPY --from=build /src/content /app/content
COPY --from=build /src/spa-shell /app/spa-shell
COPY --from=build /src/infra /app/infra
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
# 0.0.0.0 inside the container so the orchestrator's port mapping reaches it. Set
# BFF_TRUSTED_PROXIES to the load balancer's subnet (CIDR) so X-Forwarded-For is trusted from it
# only (client IPs feed the rate limits, logs and upstreams); the default trusts nobody.
# The route policy: BFF_API_ROUTES=/app/infra/routes.toml (built in from infra/routes.toml when
# present in the build context) or a mounted file.
CMD ["python", "-m", "bff.cli", "serve", "--host", "0.0.0.0", "--port", "8000"]
