# pgflux-ci container action: Python, the project, and PostgreSQL server binaries for the
# embedded shadow database. Runs as root, as GitHub requires of container actions; the embedded
# shadow server drops privileges itself.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
ARG PYTHON_VERSION=3.11.2-1+b1
ARG CA_CERTIFICATES_VERSION=20230311+deb12u1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# ca-certificates: pip then trusts the system store, including CAs a site adds under
# /usr/local/share/ca-certificates (an egress proxy's, say); the final stage does not need it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      "python3=${PYTHON_VERSION}" "python3-venv=${PYTHON_VERSION}" \
      "ca-certificates=${CA_CERTIFICATES_VERSION}" \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY engine ./engine
COPY pgflux_ci ./pgflux_ci
# Binary wheels preferred: there is no compiler in either stage.
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PREFER_BINARY=1 \
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt
RUN python3 -m venv /opt/pgflux \
 && /opt/pgflux/bin/pip install --no-compile "setuptools==80.9.0" "wheel==0.45.1" \
 && /opt/pgflux/bin/pip install --no-compile --no-build-isolation /src \
 && /opt/pgflux/bin/pip uninstall -y setuptools wheel pip \
 && find /opt/pgflux -name '__pycache__' -prune -exec rm -rf {} +

FROM ${BASE}
ARG PG_MAJOR=15
ARG PG_VERSION=15.18-0+deb12u1
ARG PYTHON_VERSION=3.11.2-1+b1
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Server binaries only: no default cluster (the shadow makes its own), no docs, no downloaded
# packages (a minbase has no docker-clean hook), and no JIT: the shadow runs DDL and catalog
# queries, and LLVM (libLLVM + libz3, ~130 MB, needed only by llvmjit.so) is most of the size.
RUN mkdir -p /etc/postgresql-common/createcluster.d \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/pgflux.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends \
      "python3=${PYTHON_VERSION}" "postgresql-${PG_MAJOR}=${PG_VERSION}" \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
 && rm -rf /usr/lib/postgresql/${PG_MAJOR}/lib/llvmjit* /usr/lib/postgresql/${PG_MAJOR}/lib/bitcode \
      /usr/lib/*-linux-gnu/libLLVM-*.so* /usr/lib/*-linux-gnu/libz3.so*
COPY --from=build /opt/pgflux /opt/pgflux
ENV PATH=/opt/pgflux/bin:$PATH \
    PGFLUX_POSTGRES_BIN=/usr/lib/postgresql/${PG_MAJOR}/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Exec form: a /bin/sh entrypoint would drop the runner's INPUT_DATABASE-URL style variables.
ENTRYPOINT ["pgflux-ci"]
