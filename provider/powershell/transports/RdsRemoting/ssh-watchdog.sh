#!/bin/sh
# The ssh client's watchdog (POSIX sh): runs the real client ($RDS_SSH_CLIENT) with the same
# arguments and standard streams, and ends it when the process that started this script is gone.
# That process (the subsystem channel's pwsh, or the provider itself on the exec channel) may be
# killed with SIGKILL (a connect timeout, the provider's exit, Bootstrap.ps1's parent watchdog) and
# then cannot end its children, and an ssh client in the middle of a login does not read the closed
# stdin that would otherwise end it. Checked once a second; a signal to the watchdog is passed on to
# the client. Used by RdsRemoting/SessionParameters.ps1 and transports/sshExec.ts.
owner=$PPID
exec 3<&0
"$RDS_SSH_CLIENT" "$@" <&3 3<&- &
client=$!
exec 3<&-
trap 'kill -TERM "$client" 2>/dev/null' TERM INT HUP
while kill -0 "$client" 2>/dev/null; do
  if ! kill -0 "$owner" 2>/dev/null; then
    kill -TERM "$client" 2>/dev/null
    break
  fi
  sleep 1
done
wait "$client"
