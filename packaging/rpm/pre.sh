# SPDX-License-Identifier: Apache-2.0
# pre-install scriptlet of hookfwd (RPM). $1: 1 on install, 2 on upgrade.
# The account exists before the files are laid down, so the file list can
# give /etc/hookfwd/hookfwd.yaml to root:hookfwd 0640.
getent group hookfwd >/dev/null || groupadd -r hookfwd
getent passwd hookfwd >/dev/null || \
    useradd -r -g hookfwd -d /var/lib/hookfwd -M -s /sbin/nologin \
        -c "hookfwd webhook forwarder" hookfwd
exit 0
