#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Package test: build the .deb, lint it, and install, upgrade (reinstall),
# remove and purge it on this machine, checking what each step leaves.
#
#   tests/integration/test_package.sh [BUILD_DIR]
#
# BUILD_DIR is a configured CMake build directory; without the argument the
# BUILD_DIR environment variable (set by tests/CMakeLists.txt) is used. The install steps need
# root and apt-get; without them the test prints SKIP and exits 77 (CTest:
# SKIP_RETURN_CODE 77). It installs and PURGES the system package hookfwd,
# so run it on CI or a development machine, not on a server running hookfwd.
# HOOKFWD_SKIP_PACKAGE_TEST=1 skips it.
set -u

PASS=0
FAIL=0
CONF=/etc/hookfwd/hookfwd.yaml

ok()   { PASS=$((PASS + 1)); echo "ok   - $*"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
    desc=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$desc"; else fail "$desc"; fi
}
summary() {
    echo "$PASS passed, $FAIL failed"
    if [ "$FAIL" -eq 0 ]; then exit 0; fi
    exit 1
}
skip() {
    echo "SKIP: $*"
    if [ "$FAIL" -ne 0 ]; then summary; fi
    exit 77
}
mode_of() { stat -c '%U:%G %a' "$1" 2>/dev/null; }
installed() { dpkg-query -W -f='${Status}' hookfwd 2>/dev/null | grep -q ' installed$'; }
known() { dpkg-query -W hookfwd >/dev/null 2>&1; }

BUILD_ARG=${1:-${BUILD_DIR:-}}
if [ $# -gt 1 ] || [ -z "$BUILD_ARG" ] || [ ! -f "$BUILD_ARG/CMakeCache.txt" ]; then
    echo "usage: $0 CMAKE_BUILD_DIR (or BUILD_DIR in the environment)" >&2
    exit 2
fi
if [ "${HOOKFWD_SKIP_PACKAGE_TEST:-0}" = "1" ]; then
    skip "HOOKFWD_SKIP_PACKAGE_TEST=1"
fi
BUILD_DIR=$(cd "$BUILD_ARG" && pwd)

# ---- build ---------------------------------------------------------------
echo "# cmake --build $BUILD_DIR --target package"
if cmake --build "$BUILD_DIR" --target package >"$BUILD_DIR/test_package.build.log" 2>&1; then
    ok "package target builds"
else
    tail -n 40 "$BUILD_DIR/test_package.build.log"
    fail "package target builds"
    summary
fi
# the newest .deb, if several versions lie there
# shellcheck disable=SC2012  # the names are ours: hookfwd_<version>_<arch>.deb
DEB=$(ls -t "$BUILD_DIR"/hookfwd_*.deb 2>/dev/null | head -n 1)
if [ -n "$DEB" ]; then ok "built $(basename "$DEB")"; else fail "a hookfwd_*.deb in $BUILD_DIR"; summary; fi

# ---- the dashboards are in it ----------------------------------------------
DASH_DEST=./usr/share/hookfwd/dashboards
DEB_FILES=$(dpkg-deb -c "$DEB" | awk '{print $6}')
for f in datadog/hookfwd-security.json datadog/monitors/dead-letters.json grafana/hookfwd-agent.json \
         splunk/hookfwd_app.tgz splunk/hookfwd_app/default/app.conf \
         splunk/hookfwd_app/default/data/ui/views/hookfwd_security.xml; do
    if printf '%s\n' "$DEB_FILES" | grep -qx "$DASH_DEST/$f"; then
        ok "the .deb ships /usr/share/hookfwd/dashboards/$f"
    else
        fail "the .deb ships /usr/share/hookfwd/dashboards/$f"
    fi
done

# ---- lintian -------------------------------------------------------------
if command -v lintian >/dev/null 2>&1; then
    echo "# lintian $(basename "$DEB")"
    LINT=$(lintian --tag-display-limit 0 -I "$DEB" 2>&1)
    [ -n "$LINT" ] && printf '%s\n' "$LINT" | sed 's/^/#   /'
    if printf '%s\n' "$LINT" | grep -q '^E: '; then
        fail "lintian reports no error (E:)"
    else
        ok "lintian reports no error (E:)"
    fi
else
    echo "# lintian not installed: not linted"
fi

# ---- install -------------------------------------------------------------
if [ "$(id -u)" -ne 0 ]; then skip "installing the package needs root"; fi
if ! command -v apt-get >/dev/null 2>&1; then skip "no apt-get"; fi

export DEBIAN_FRONTEND=noninteractive
APT_LOG="$BUILD_DIR/test_package.apt.log"
: >"$APT_LOG"
apt_run() { apt-get "$@" >>"$APT_LOG" 2>&1; }

# Leave no hookfwd behind, whatever happens below.
# shellcheck disable=SC2317  # called through trap
cleanup() { if known; then apt-get purge -y hookfwd >/dev/null 2>&1 || true; fi; }
trap cleanup EXIT
trap 'exit 1' INT TERM

if known; then
    echo "# purging the hookfwd package already on this machine"
    apt_run purge -y hookfwd || true
fi

cd "$(dirname "$DEB")" || exit 1
DEBNAME=./$(basename "$DEB")
echo "# apt-get install -y $DEBNAME"
if apt_run install -y "$DEBNAME" && installed; then
    ok "apt-get install $DEBNAME"
else
    tail -n 30 "$APT_LOG"
    fail "apt-get install $DEBNAME"
    summary
fi

check "/usr/bin/hookfwd is an executable" test -x /usr/bin/hookfwd
if OUT=$(/usr/bin/hookfwd version 2>&1) && [ -n "$OUT" ]; then
    ok "hookfwd version: $(printf '%s' "$OUT" | head -n 1)"
else
    fail "hookfwd version (exit or empty output): $OUT"
fi

# Every ${NAME} of the default config (but the per-event names) set to a
# dummy value, as an admin would in /etc/hookfwd/hookfwd.env.
ENV_ARGS=""
# shellcheck disable=SC2016  # a literal ${ in the pattern
for name in $(grep -o '\${[A-Za-z_][A-Za-z0-9_]*}' "$CONF" 2>/dev/null | tr -d '${}' | sort -u); do
    case $name in source|event_type|severity) continue ;; esac
    ENV_ARGS="$ENV_ARGS $name=package-test-$name"
done
echo "# environment for check:${ENV_ARGS:- none}"
# shellcheck disable=SC2086  # ENV_ARGS is a list of NAME=value words
if OUT=$(env $ENV_ARGS /usr/bin/hookfwd check -c "$CONF" 2>&1) \
        && printf '%s\n' "$OUT" | grep -q 'configuration OK'; then
    ok "hookfwd check -c $CONF (as root)"
else
    printf '%s\n' "$OUT" | sed 's/^/#   /'
    fail "hookfwd check -c $CONF (as root)"
fi
# the service runs `check` as user hookfwd (ExecStartPre)
# shellcheck disable=SC2086
if OUT=$(runuser -u hookfwd -- env $ENV_ARGS /usr/bin/hookfwd check -c "$CONF" 2>&1) \
        && printf '%s\n' "$OUT" | grep -q 'configuration OK'; then
    ok "hookfwd check -c $CONF (as user hookfwd)"
else
    printf '%s\n' "$OUT" | sed 's/^/#   /'
    fail "hookfwd check -c $CONF (as user hookfwd)"
fi

check "user hookfwd exists" getent passwd hookfwd
check "group hookfwd exists" getent group hookfwd
HOME_SHELL=$(getent passwd hookfwd | cut -d: -f6,7)
check "hookfwd: home /var/lib/hookfwd, no login shell ($HOME_SHELL)" \
    test "$HOME_SHELL" = "/var/lib/hookfwd:/usr/sbin/nologin"
UID_=$(id -u hookfwd 2>/dev/null || echo 65534)
check "hookfwd is a system account (uid $UID_)" test "$UID_" -lt 1000
check "$CONF is root:hookfwd 0640 ($(mode_of $CONF))" \
    test "$(mode_of $CONF)" = "root:hookfwd 640"
check "/etc/hookfwd is root:hookfwd 0750 ($(mode_of /etc/hookfwd))" \
    test "$(mode_of /etc/hookfwd)" = "root:hookfwd 750"
check "/var/lib/hookfwd is hookfwd:hookfwd 0750 ($(mode_of /var/lib/hookfwd))" \
    test "$(mode_of /var/lib/hookfwd)" = "hookfwd:hookfwd 750"
check "$CONF is a conffile" \
    sh -c "dpkg-query -W -f='\${Conffiles}' hookfwd | grep -q ' $CONF '"
check "unit /usr/lib/systemd/system/hookfwd.service installed" \
    test -f /usr/lib/systemd/system/hookfwd.service
check "unit not enabled by the install" \
    test ! -e /etc/systemd/system/multi-user.target.wants/hookfwd.service
check "man page hookfwd(8) installed" test -f /usr/share/man/man8/hookfwd.8.gz
check "installed dashboards match the ones the binary prints" sh -c \
    "/usr/bin/hookfwd dashboard datadog --shipped | cmp -s - /usr/share/hookfwd/dashboards/datadog/hookfwd-security.json"
check "the Splunk app archive holds hookfwd_app/" sh -c \
    "tar tzf /usr/share/hookfwd/dashboards/splunk/hookfwd_app.tgz | grep -qx hookfwd_app/default/app.conf"
check "copyright and changelog.Debian.gz installed" \
    test -f /usr/share/doc/hookfwd/copyright -a -f /usr/share/doc/hookfwd/changelog.Debian.gz
if command -v systemd-analyze >/dev/null 2>&1; then
    SCORE=$(systemd-analyze security --offline=true \
                /usr/lib/systemd/system/hookfwd.service 2>/dev/null |
            sed -n 's/.*Overall exposure level for hookfwd.service: \([0-9.]*\).*/\1/p')
    check "systemd-analyze security exposure ${SCORE:-?} <= 2.0" \
        awk -v s="${SCORE:-99}" 'BEGIN { exit !(s + 0 <= 2.0) }'
fi

# ---- upgrade (reinstall): the ownership must survive ---------------------
if apt_run install -y --reinstall "$DEBNAME" && installed; then
    ok "apt-get install --reinstall"
else
    fail "apt-get install --reinstall"
fi
check "after reinstall, $CONF still root:hookfwd 0640 ($(mode_of $CONF))" \
    test "$(mode_of $CONF)" = "root:hookfwd 640"

# ---- remove: binary gone, configuration, state and account kept ----------
if apt_run remove -y hookfwd && ! installed; then
    ok "apt-get remove hookfwd"
else
    fail "apt-get remove hookfwd"
fi
check "after remove, /usr/bin/hookfwd is gone" test ! -e /usr/bin/hookfwd
check "after remove, $CONF is kept" test -f "$CONF"
check "after remove, /var/lib/hookfwd is kept" test -d /var/lib/hookfwd
check "after remove, user hookfwd is kept" getent passwd hookfwd

# ---- purge: everything gone ----------------------------------------------
if apt_run purge -y hookfwd && ! known; then
    ok "apt-get purge hookfwd"
else
    fail "apt-get purge hookfwd"
fi
check "after purge, /usr/bin/hookfwd is gone" test ! -e /usr/bin/hookfwd
check "after purge, /etc/hookfwd is gone" test ! -e /etc/hookfwd
check "after purge, /var/lib/hookfwd is gone" test ! -e /var/lib/hookfwd
check "after purge, user hookfwd is gone" sh -c '! getent passwd hookfwd >/dev/null'
check "after purge, group hookfwd is gone" sh -c '! getent group hookfwd >/dev/null'
check "after purge, no dpkg-statoverride left" \
    sh -c '! dpkg-statoverride --list "/etc/hookfwd*" | grep -q .'

summary
