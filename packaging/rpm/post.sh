# SPDX-License-Identifier: Apache-2.0
# post-install scriptlet of hookfwd (RPM). $1: 1 on install, 2 on upgrade.
# Does not enable or start the service: secrets must be set first.
if [ ! -d /var/lib/hookfwd ]; then
    mkdir -p /var/lib/hookfwd
fi
chown hookfwd:hookfwd /var/lib/hookfwd
chmod 0750 /var/lib/hookfwd
if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null 2>&1 || :
fi
if [ "$1" -eq 1 ]; then
    cat <<'NOTE'
hookfwd is installed but not enabled. To start it:
  1. edit /etc/hookfwd/hookfwd.yaml (sources, sinks) and put the secrets it
     names as ${NAME} in /etc/hookfwd/hookfwd.env (NAME=value, mode 0600);
  2. hookfwd check -c /etc/hookfwd/hookfwd.yaml
  3. systemctl enable --now hookfwd
See hookfwd(8) and /usr/share/doc/hookfwd/examples/.
NOTE
fi
exit 0
