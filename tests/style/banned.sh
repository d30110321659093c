#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when hookfwd's C sources call a function with no bound on its output
# or no error report: use snprintf, hf_buf_*, memcpy with a checked length,
# strtol/strtoll with an end pointer, strtok_r, mkstemp instead.
set -eu
cd "$(dirname "$0")/../.."
BANNED='sprintf|vsprintf|strcpy|strncpy|strcat|strncat|gets|atoi|atol|atoll|atof|strtok|tmpnam|tempnam|mktemp|alloca'
# a call is the name followed by "(", not part of a longer name (snprintf,
# strtok_r), outside comment lines
hits=$(grep -rnE --include='*.c' --include='*.h' "(^|[^A-Za-z0-9_])($BANNED)[[:space:]]*\(" \
        agent plugins tests/unit tests/bench tests/fuzz tests/peers 2>/dev/null |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*(/?\*|//)' || true)
if [ -n "$hits" ]; then
    echo "banned functions (see tests/style/banned.sh for what to use instead):"
    echo "$hits"
    exit 1
fi
echo "banned functions: none"
