#!/usr/bin/env bash
# Run by `npm test` before the suite (package.json "pretest"): prepares what the tests need on this
# machine in one step, so `npm ci && npm test` passes on a fresh machine and no test file installs anything.
#  1. PowerShell 7. When the runner's lookup (provider/powershell/executable.ts: $RDS_PWSH, pwsh on
#     PATH, ~/.dotnet/tools/pwsh, <repo>/.tools/pwsh/pwsh) finds none and `dotnet` is on PATH, it
#     installs the project-local PowerShell: `dotnet tool install PowerShell --version <v> --tool-path
#     <repo>/.tools/pwsh`, the folder and version read from provider/powershell/localPwsh.ts (the demo
#     installs the same one). Nothing global changes; the tests find it through the same lookup.
#  2. The ssh transport lab (test/transports/ssh-lab-setup.sh: Debian's openssh-server, the rdstest
#     account, a pwsh it can run). It needs root; it is idempotent and quick when all is in place.
#     Without root the lab must already be there.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO="$PWD"

# A string constant of localPwsh.ts (`export const NAME = "value";`): the one place that says it.
local_pwsh_const() { sed -n "s/^export const $1 = \"\\([^\"]*\\)\";\$/\\1/p" provider/powershell/localPwsh.ts; }
PWSH_VERSION="$(local_pwsh_const PWSH_VERSION)"
LOCAL_PWSH_DIR="$(local_pwsh_const LOCAL_PWSH_DIR)"
if [ -z "$PWSH_VERSION" ] || [ -z "$LOCAL_PWSH_DIR" ]; then
  echo "npm test: could not read PWSH_VERSION and LOCAL_PWSH_DIR from provider/powershell/localPwsh.ts" >&2
  exit 1
fi
LOCAL_PWSH="$REPO/$LOCAL_PWSH_DIR/pwsh"

# The runner's lookup, in its order (executable.ts); prints the pwsh found.
find_pwsh() {
  if [ -n "${RDS_PWSH:-}" ]; then
    [ -x "$RDS_PWSH" ] && [ -f "$RDS_PWSH" ] && { echo "$RDS_PWSH"; return 0; }
    return 1
  fi
  command -v pwsh && return 0
  for candidate in "$HOME/.dotnet/tools/pwsh" "$LOCAL_PWSH"; do
    [ -x "$candidate" ] && [ -f "$candidate" ] && { echo "$candidate"; return 0; }
  done
  return 1
}

if ! PWSH="$(find_pwsh)"; then
  if [ -n "${RDS_PWSH:-}" ]; then
    echo "npm test: RDS_PWSH is set to $RDS_PWSH, which is not an executable file" >&2
    exit 1
  fi
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "npm test: PowerShell 7 (pwsh) is needed and the .NET SDK (dotnet) is not on PATH to install it: install PowerShell 7 (https://learn.microsoft.com/powershell/scripting/install/installing-powershell) or set RDS_PWSH" >&2
    exit 1
  fi
  echo "npm test: PowerShell 7 not found: installing PowerShell $PWSH_VERSION into $LOCAL_PWSH_DIR (dotnet tool install --tool-path; nothing global changes)"
  # dotnet's own output only when it fails: the line above says what happens.
  if ! out="$(dotnet tool install PowerShell --version "$PWSH_VERSION" --tool-path "$REPO/$LOCAL_PWSH_DIR" 2>&1)" || [ ! -x "$LOCAL_PWSH" ]; then
    printf '%s\n' "$out" | tail -n 20 >&2
    echo "npm test: the PowerShell install failed (dotnet tool install PowerShell --version $PWSH_VERSION --tool-path $LOCAL_PWSH_DIR)" >&2
    exit 1
  fi
  PWSH="$LOCAL_PWSH"
fi

echo "npm test: PowerShell $("$PWSH" -NoLogo -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()') at $PWSH"

LAB_STATE=/var/lib/rds-ssh-lab
lab_ready() {
  id "${RDS_SSH_LAB_USER:-rdstest}" >/dev/null 2>&1 &&
    [ -s "$LAB_STATE/password" ] && [ -s "$LAB_STATE/pwsh" ] && [ -x "$(cat "$LAB_STATE/pwsh")" ] && [ -d /run/sshd ]
}

if [ "$(id -u)" = 0 ]; then
  echo "npm test: ssh transport lab (root; idempotent): Debian's openssh-server and openssh-client when missing, the local account ${RDS_SSH_LAB_USER:-rdstest}, and a pwsh it can run (a copy under /opt/rds-ssh-lab when ours is out of its reach or inside this checkout)"
  RDS_PWSH="$PWSH" bash test/transports/ssh-lab-setup.sh
elif ! lab_ready 2>/dev/null; then
  echo "npm test: the ssh lab is not prepared and this is not root: run 'sudo bash test/transports/ssh-lab-setup.sh' once, then npm test again" >&2
  exit 1
fi
