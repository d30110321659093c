#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Install what building, testing and packaging hookfwd needs on Debian 12
# (bookworm). Every name below was checked with `apt-cache policy NAME` on
# bookworm. Runs apt through sudo when not root.
#
#   HOOKFWD_SKIP_APT_UPDATE=1   skip `apt-get update` (lists already fresh)
set -eu

PACKAGES="
    build-essential
    cmake
    pkg-config
    git
    libevent-dev
    libssl-dev
    libyaml-dev
    libcurl4-openssl-dev
    librdkafka-dev
    libhiredis-dev
    zlib1g-dev
    libcmocka-dev
    curl
    ca-certificates
    python3
    rsyslog
    rsyslog-openssl
    kcat
    exim4-daemon-light
    openssl
    util-linux
    jq
    iproute2
    procps
    bsdextrautils
    clang
    clang-format
    libclang-rt-14-dev
    wrk
    nginx-light
    redis-server
    lintian
    rpm
    file
    dpkg-dev
    man-db
    groff-base
    systemd
    tmux
"
# what each is for:
#   build-essential cmake pkg-config git   the build (git: changelog date)
#   lib*-dev zlib1g-dev                    the agent's libraries (llhttp and
#                                          yyjson are pinned in third_party/:
#                                          Debian 12 has no usable version)
#   libcmocka-dev                          unit tests
#   curl ca-certificates python3 openssl   integration tests (clients,
#                                          test receivers, certificates)
#   rsyslog rsyslog-openssl                real syslog peer, plain and TLS
#   kcat                                   Kafka client against the mock cluster
#   exim4-daemon-light                     real SMTP server for the e-mail sink
#                                          (tests/integration/lib_smtp.sh; Debian
#                                          12's OpenSMTPD 6.8 fails every TLS
#                                          handshake with OpenSSL 3)
#   util-linux bsdextrautils               runuser, setsid; hexdump, column
#   clang                                  libFuzzer targets
#   clang-format                           the style check (tests/style/format.sh)
#   wrk nginx-light                        benchmarks, TLS-terminating proxy,
#                                          the load balancer of the HA test
#   redis-server                           shared dedup's store in the tests
#                                          (libhiredis-dev: its client)
#   lintian rpm file dpkg-dev              packages: lint, rpmbuild,
#                                          dpkg-shlibdeps
#   man-db groff-base systemd              man page and unit checks
#                                          (lexgrog, groff, systemd-analyze)
#   tmux                                   `hookfwd top` driven in a terminal
#   nodejs npm                             the dashboards test installs the
#                                          Datadog API client and a PromQL
#                                          parser from npm; left out when an
#                                          npm is there already (NodeSource's
#                                          nodejs brings its own and conflicts
#                                          with Debian's npm)

if ! command -v npm >/dev/null 2>&1; then
    PACKAGES="$PACKAGES nodejs npm"
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    echo "install-deps.sh: run as root or install sudo" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps.sh: needs apt-get (Debian 12)" >&2
    exit 1
fi

if [ "${HOOKFWD_SKIP_APT_UPDATE:-0}" != "1" ]; then
    $SUDO apt-get update
fi

# shellcheck disable=SC2086  # word splitting of the list is intended
$SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends $PACKAGES
