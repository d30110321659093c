#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when a C source of hookfwd's is not formatted as .clang-format says
# (third_party/ is left as its authors wrote it). `format.sh --fix` rewrites.
set -eu
cd "$(dirname "$0")/../.."
files=$(git ls-files 'agent/*.[ch]' 'plugins/*.[ch]' 'tests/*.[ch]')
if [ "${1:-}" = "--fix" ]; then
    clang-format -i $files
    exit 0
fi
clang-format --dry-run -Werror $files
echo "format: clean"
