#!/bin/sh
# Runs inside the hardware lane's VM (scripts/hardware/run-vm.sh), as root, with
# gpio-sim loaded: every in-VM test file, one at a time (they share the kernel's
# devices), events to /tmp/results/events.jsonl.
cd "$EDGE_HW_REPO" || exit 2
set -- dist/test/hardware/vm/*.vm.js
exec node --test --test-concurrency=1 --test-timeout=600000 \
  --test-reporter=./dist/test/hardware/vm/jsonl-reporter.js --test-reporter-destination=/tmp/results/events.jsonl \
  --test-reporter=spec --test-reporter-destination=stdout "$@"
