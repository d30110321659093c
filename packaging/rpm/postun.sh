# SPDX-License-Identifier: Apache-2.0
# post-uninstall scriptlet of hookfwd (RPM). $1: 0 on erase, 1 on upgrade.
# RPM has no purge: on erase the account, /var/lib/hookfwd (journal, dead
# letters) and a modified configuration (as .rpmsave) stay, as the Fedora
# packaging guidelines ask. Remove them by hand if wanted:
#   rm -rf /etc/hookfwd /var/lib/hookfwd; userdel hookfwd
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
    if [ "$1" -ge 1 ]; then
        # upgrade: a running agent drains and restarts on the new binary
        systemctl try-restart hookfwd.service >/dev/null 2>&1 || :
    fi
fi
exit 0
