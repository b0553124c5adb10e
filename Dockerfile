# syntax=docker/dockerfile:1
# kycd: a multi-stage build. The first stage compiles the release binary with
# the Rust toolchain; the runtime image is Debian slim with the binary, CA
# certificates and a non-root user, nothing else.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p kycd \
    && cp target/release/kycd /usr/local/bin/kycd

FROM debian:bookworm-slim
# The CA bundle follows Debian's security updates: not pinned on purpose.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/kycd --create-home kycd
COPY --from=build /usr/local/bin/kycd /usr/local/bin/kycd
USER 10001:10001
WORKDIR /var/lib/kycd
# Listen on every interface inside the container; logs as JSON for collectors.
ENV KYCD_LISTEN=0.0.0.0:8080 \
    KYCD_DATA_DIR=/var/lib/kycd \
    KYCD_LOG_FORMAT=json
EXPOSE 8080
VOLUME ["/var/lib/kycd"]
# No curl in the image: bash's /dev/tcp asks /readyz (200 when the database answers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/kycd"]
CMD ["serve"]
