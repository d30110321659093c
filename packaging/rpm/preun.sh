# SPDX-License-Identifier: Apache-2.0
# pre-uninstall scriptlet of hookfwd (RPM). $1: 0 on erase, 1 on upgrade.
# On erase, stop and disable the agent (as the systemd_preun macro does).
if [ "$1" -eq 0 ]; then
    if [ -d /run/systemd/system ]; then
        systemctl --no-reload disable --now hookfwd.service >/dev/null 2>&1 || :
    else
        systemctl --no-reload disable hookfwd.service >/dev/null 2>&1 || :
    fi
fi
exit 0
