# syntax=docker/dockerfile:1
# The tierbench image for deploy/kubernetes (docs/scale-out.md):
#   docker build -t registry.example.com/tierbench:0.1.0 .
# Built on Debian bookworm and run on bookworm-slim (same glibc). The report templates are
# embedded in the binary (include_str!), so the image holds the binary and CA certificates only
# (rediss:// and TLS to SQL verify against the system roots unless the scenario names a CA file).

FROM rust:1.95-bookworm AS builder
WORKDIR /src
# What `cargo build` reads: the manifest, the lock file, the sources and the files they embed
# (benches/ only because Cargo.toml declares its targets).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY templates ./templates
COPY benches ./benches
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin tierbench \
    && cp target/release/tierbench /usr/local/bin/tierbench

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 tierbench \
    && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin tierbench
COPY --from=builder /usr/local/bin/tierbench /usr/local/bin/tierbench
# Numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
USER 10001:10001
WORKDIR /tmp
ENTRYPOINT ["tierbench"]
CMD ["--help"]
