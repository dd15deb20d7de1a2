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

# The pwsh processes the tests start themselves use the provider's own pwsh cache folder
# (provider/powershell/pool/startupProfile.ts, built above), where no startup profile can be written:
# pwsh rewrites its profile at every exit, and two test files run at once; pwsh processes exiting
# together can corrupt a shared one, and every later pwsh of the account then dies at start
# (PowerShell/PowerShell#26528). Empty when it cannot be made: pwsh keeps its default, as the provider's.
pwsh_cache="$(node -p 'require("./bin/provider/powershell/pool/startupProfile").pwshCacheEnvironment().XDG_CACHE_HOME ?? ""')"
[ -z "$pwsh_cache" ] || export XDG_CACHE_HOME="$pwsh_cache"

exec npx jest "$@"
