#!/usr/bin/env bash
# Prepares this machine for the SSH transport tests (test/transports/*ssh*.test.ts). Idempotent; run
# as root (`npm test` runs it first through test/prepare.sh when it runs as root; no test file runs it).
#
#  - Debian's openssh-server and openssh-client (the tests start their own `sshd -D -f <temp config>`
#    on a free 127.0.0.1 port with their own host keys; the system sshd and its config are not touched);
#  - the privilege separation directory sshd needs (/run/sshd);
#  - a dedicated local account `rdstest` whose password is a random value kept in
#    /var/lib/rds-ssh-lab/password (root only, 0600);
#  - a pwsh that account can run as the `powershell` SSH subsystem: the dotnet global tool lives under
#    /root (0700), so when rdstest cannot run the pwsh the tests use, its tool folder is copied to
#    /opt/rds-ssh-lab/pwsh-<version> (read-only for others). A project-local pwsh (<checkout>/.tools/pwsh,
#    which npm test installs when there is no other) is always copied: the lab is machine-wide and
#    outlives the checkout, which may be a temporary clone. The path is written to /var/lib/rds-ssh-lab/pwsh;
#  - no PowerShell startup profile for that account (see "Startup profile" below).
#
# The pwsh: $RDS_PWSH (test/prepare.sh passes the one the tests use), else pwsh on PATH or in
# ~/.dotnet/tools, else this checkout's .tools/pwsh/pwsh.
set -euo pipefail

LAB_USER="${RDS_SSH_LAB_USER:-rdstest}"
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
STATE=/var/lib/rds-ssh-lab
export PATH="$PATH:$HOME/.dotnet/tools"

if [ "$(id -u)" != 0 ]; then
  echo "ssh-lab-setup: must run as root" >&2
  exit 1
fi

if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
  echo "== ssh lab: installing openssh-server and openssh-client"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
fi
command -v ssh-keygen >/dev/null 2>&1 || { echo "ssh-lab-setup: ssh-keygen missing after install" >&2; exit 1; }
mkdir -p /run/sshd && chmod 0755 /run/sshd

install -d -m 0700 -o root -g root "$STATE"
if ! id "$LAB_USER" >/dev/null 2>&1; then
  echo "== ssh lab: creating the test account $LAB_USER"
  useradd --create-home --shell /bin/bash "$LAB_USER"
fi
if [ ! -s "$STATE/password" ]; then
  # 24 random characters from a set that needs no quoting anywhere.
  (umask 077 && head -c 256 /dev/urandom | tr -dc 'A-Za-z0-9' | head -c 24 > "$STATE/password.new")
  mv "$STATE/password.new" "$STATE/password"
  printf '%s:%s\n' "$LAB_USER" "$(cat "$STATE/password")" | chpasswd
fi
chmod 0600 "$STATE/password"
# The account must be unlocked for password authentication (chpasswd above sets the hash).
passwd -S "$LAB_USER" | grep -q ' P ' || { printf '%s:%s\n' "$LAB_USER" "$(cat "$STATE/password")" | chpasswd; }

# Startup profile. pwsh keeps a .NET multicore-JIT profile per start mode in its cache folder
# (~/.cache/powershell/StartupProfileData-NonInteractive, -SSHServerMode, -Interactive), reads it at
# every start and rewrites it at every exit. pwsh processes of one account that exit together can
# leave it corrupt, and then every later pwsh of the account dies at start (SIGSEGV, exit 139):
# PowerShell/PowerShell#26528, dotnet/runtime#121977, both open. All the lab's targets are this one
# account (a real fleet has an account per host), and a benchmark closes twelve sessions at once:
# that killed the lab here on 2026-12-04. Each profile path is made an empty read-only folder, which
# pwsh can neither read as a profile nor write, so it starts without one (measured: same CPU time,
# no error; pwsh never removes a folder there, and npm test pins them again); a file left from before
# (perhaps corrupt) is removed.
LAB_HOME="$(getent passwd "$LAB_USER" | cut -d: -f6)"
LAB_CACHE="$LAB_HOME/.cache/powershell"
install -d -o "$LAB_USER" -g "$LAB_USER" "$LAB_HOME/.cache" "$LAB_CACHE"
for mode in NonInteractive SSHServerMode Interactive; do
  profile="$LAB_CACHE/StartupProfileData-$mode"
  [ -d "$profile" ] || { rm -f "$profile"; install -d -m 0555 -o root -g root "$profile"; }
done

# A pwsh the lab account can run.
PWSH="${RDS_PWSH:-$(command -v pwsh || true)}"
if [ -z "$PWSH" ] && [ -x "$REPO/.tools/pwsh/pwsh" ]; then PWSH="$REPO/.tools/pwsh/pwsh"; fi
[ -n "$PWSH" ] || { echo "ssh-lab-setup: pwsh not found (install it first: npm test does, into .tools/pwsh)" >&2; exit 1; }
PWSH="$(readlink -f "$PWSH")"
can_run() { runuser -u "$LAB_USER" -- "$1" -NoLogo -NoProfile -NonInteractive -Command 'exit 0' >/dev/null 2>&1; }
project_local() { case "$1" in */.tools/pwsh/*) return 0 ;; *) return 1 ;; esac; }
if ! project_local "$PWSH" && can_run "$PWSH"; then
  LAB_PWSH="$PWSH"
else
  VERSION="$("$PWSH" -NoLogo -NoProfile -NonInteractive -Command '$PSVersionTable.PSVersion.ToString()')"
  TOOL_DIR="$(dirname "$PWSH")"
  DEST="/opt/rds-ssh-lab/pwsh-$VERSION"
  if [ ! -x "$DEST/$(basename "$PWSH")" ] || ! can_run "$DEST/$(basename "$PWSH")"; then
    echo "== ssh lab: copying pwsh $VERSION from $TOOL_DIR to $DEST ($LAB_USER cannot reach $PWSH, or it is inside a checkout)"
    rm -rf "$DEST.tmp" && install -d -m 0755 /opt/rds-ssh-lab
    cp -a "$TOOL_DIR" "$DEST.tmp"
    chmod -R go-w,go+rX "$DEST.tmp"
    rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
  fi
  chmod 0755 /opt/rds-ssh-lab
  LAB_PWSH="$DEST/$(basename "$PWSH")"
  can_run "$LAB_PWSH" || { echo "ssh-lab-setup: $LAB_USER cannot run $LAB_PWSH" >&2; exit 1; }
fi
printf '%s\n' "$LAB_PWSH" > "$STATE/pwsh"
echo "== ssh lab ready: user $LAB_USER, subsystem pwsh $LAB_PWSH"
