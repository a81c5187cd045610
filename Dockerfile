# The BFF as a container (ECS/Fargate, Kubernetes, anywhere): non-root, health-checked,
# configured only from BFF_* environment variables. Use Redis or DynamoDB as the session store
# (BFF_SESSION_STORE) when more than one container runs.
# syntax=docker/dockerfile:1
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bff ./bff
COPY spa-shell ./spa-shell
COPY content ./content
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir . \
 && /opt/venv/bin/bff build-spa --out /opt/spa

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BFF_SPA_DIR=/opt/spa
RUN groupadd --system --gid 10001 bff \
 && useradd --system --uid 10001 --gid bff --home-dir /nonexistent --shell /usr/sbin/nologin bff
COPY --from=build /opt/venv /opt/venv
COPY --from=build /opt/spa /opt/spa
COPY --from=build /src/content /opt/content
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
# 0.0.0.0 inside the container so the orchestrator's port mapping reaches it. Set
# FORWARDED_ALLOW_IPS to the load balancer's subnet (CIDR) so X-Forwarded-* is trusted from it
# only (client IPs feed the sign-up rate limits); the default trusts nobody but 127.0.0.1.
CMD ["bff", "serve", "--host", "0.0.0.0", "--port", "8000"]
