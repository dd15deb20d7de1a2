#!/usr/bin/env bash
# Run by `npm test` before the suite (package.json "pretest"): prepares what the tests need on this
# machine, so no test file installs anything itself.
#  - The ssh transport lab (test/transports/ssh-lab-setup.sh: Debian's openssh-server, the rdstest
#    account, a pwsh it can run). It needs root; it is idempotent and quick when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

LAB_STATE=/var/lib/rds-ssh-lab
lab_ready() {
  id "${RDS_SSH_LAB_USER:-rdstest}" >/dev/null 2>&1 &&
    [ -s "$LAB_STATE/password" ] && [ -s "$LAB_STATE/pwsh" ] && [ -x "$(cat "$LAB_STATE/pwsh")" ] && [ -d /run/sshd ]
}

if [ "$(id -u)" = 0 ]; then
  bash test/transports/ssh-lab-setup.sh
elif ! lab_ready 2>/dev/null; then
  echo "npm test: the ssh lab is not prepared and this is not root: run 'sudo bash test/transports/ssh-lab-setup.sh' once, then npm test again" >&2
  exit 1
fi
