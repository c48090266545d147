# syntax=docker/dockerfile:1
# simplejwt server image: a release build in a Rust image, copied into a
# distroless runtime (glibc, CA certificates, no shell, non-root user 65532).
#
#   docker build -t simplejwt .
#   docker run -p 8000:8000 -v simplejwt-data:/data simplejwt
#
# The SQLite database (and the signing key `serve` generates beside it when
# SIMPLE_JWT_SIGNING_KEY is unset) live on the /data volume. For PostgreSQL
# set DATABASE_URL=postgres://...; see compose.yaml.

# ---- build -----------------------------------------------------------------
# Any Rust at or above Cargo.toml's rust-version builds it; this one is tested.
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY . .
# The registry and target directories are cache mounts: a rebuild after a
# source change recompiles only this crate.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin simplejwt \
    && cp target/release/simplejwt /usr/local/bin/simplejwt \
    && mkdir -p /data

# ---- runtime ---------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /usr/local/bin/simplejwt /usr/local/bin/simplejwt
COPY --from=builder --chown=65532:65532 /data /data
USER 65532:65532
WORKDIR /data
ENV SIMPLEJWT_BIND=0.0.0.0:8000 \
    DATABASE_URL=sqlite:///data/simplejwt.sqlite3
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/simplejwt", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/simplejwt"]
CMD ["serve"]
