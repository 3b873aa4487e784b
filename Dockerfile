# syntax=docker/dockerfile:1
# FreelanceFlow images, from the root of the repository (BuildKit, the default builder of Docker 23+):
#
#   docker build -t ghcr.io/freelanceflow/freelanceflow:dev .                                    # default target
#   docker build --target operator -t ghcr.io/freelanceflow/freelanceflow-operator:dev .
#
# `freelanceflow` is the one binary of the pipeline (generate, migrate, loader, master, worker, dashboard;
# the migrations are embedded in it) and `operator` the Kubernetes operator. Both run on distroless
# (glibc, no shell) as the non-root user 65532.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
# librdkafka is built from source by rdkafka-sys (make, a C compiler: both in the image); zlib is linked
# statically so the binaries need nothing beyond glibc/libgcc of the distroless cc image.
ENV LIBZ_SYS_STATIC=1 \
    CARGO_TERM_COLOR=never \
    CARGO_TARGET_DIR=/src/target
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p freelanceflow -p ff-operator \
    && mkdir -p /out \
    && cp target/release/freelanceflow target/release/freelanceflow-operator /out/ \
    && for bin in /out/*; do echo "== $bin"; ldd "$bin"; done

# The Kubernetes operator (charts/freelanceflow).
FROM gcr.io/distroless/cc-debian12:nonroot AS operator
LABEL org.opencontainers.image.title="freelanceflow-operator" \
      org.opencontainers.image.description="The FreelanceFlow Kubernetes operator" \
      org.opencontainers.image.source="https://github.com/freelanceflow/freelanceflow" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/freelanceflow-operator /usr/local/bin/freelanceflow-operator
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/freelanceflow-operator"]

# The pipeline binary (last stage: what `docker build .` builds without --target).
FROM gcr.io/distroless/cc-debian12:nonroot AS freelanceflow
LABEL org.opencontainers.image.title="freelanceflow" \
      org.opencontainers.image.description="FreelanceFlow: loader, workers, master, dashboards, data generator" \
      org.opencontainers.image.source="https://github.com/freelanceflow/freelanceflow" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=builder /out/freelanceflow /usr/local/bin/freelanceflow
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/freelanceflow"]
