#!/usr/bin/env bash
# `npm test` (after its pretest, test/prepare.sh): build the product into bin/ and type-check the tests
# at the same time (two tsc runs, one per core: the provider-host tests need bin/, the tests run from
# TypeScript sources), then the suite. Arguments go to jest (`npm test -- test/emulator`).
#
# Jest runs two test files at a time (jest.config.js maxWorkers): the suite spends much of its time
# waiting on pwsh and provider-host processes, so two files keep both cores busy.
set -uo pipefail
cd "$(dirname "$0")/.."

npx tsc -p tsconfig.json &
build=$!
npx tsc -p tsconfig.test.json &
typecheck=$!
status=0
wait "$build" || { echo "npm test: the build (tsc -p tsconfig.json) failed" >&2; status=1; }
wait "$typecheck" || { echo "npm test: the type check of the tests (tsc -p tsconfig.test.json) failed" >&2; status=1; }
[ "$status" = 0 ] || exit "$status"

# The pwsh processes the tests start themselves (the provider's own use its folder: startupProfile.ts)
# get a cache folder in which no startup profile can be written. pwsh rewrites its profile at every
# exit, and two test files run at once: pwsh processes exiting together can corrupt a shared one, and
# every later pwsh of the account then dies at start (PowerShell/PowerShell#26528).
export XDG_CACHE_HOME="$PWD/.tools/test-cache"
for mode in NonInteractive Interactive SSHServerMode; do
  profile="$XDG_CACHE_HOME/powershell/StartupProfileData-$mode"
  [ -d "$profile" ] || { rm -f "$profile" && mkdir -p "$(dirname "$profile")" && mkdir -m 0555 "$profile"; }
done

exec npx jest "$@"
