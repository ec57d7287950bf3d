#!/bin/sh
# Runs inside the hardware lane's VM (scripts/hardware/run-vm.sh), as root, with
# gpio-sim loaded: every in-VM test file, one at a time (they share the kernel's
# devices), events to /tmp/results/events.jsonl, what each daemon start cost
# to /tmp/results/daemon-starts.jsonl.
cd "$EDGE_HW_REPO" || exit 2
# EDGE_HW_ONLY=NAME: only the files whose name contains NAME (by hand, while working on one).
set -- dist/test/hardware/vm/*${EDGE_HW_ONLY:-}*.vm.js
export EDGE_HW_STARTS=/tmp/results/daemon-starts.jsonl
exec node --test --test-concurrency=1 --test-timeout=2400000 \
  --test-reporter=./dist/test/hardware/vm/jsonl-reporter.js --test-reporter-destination=/tmp/results/events.jsonl \
  --test-reporter=spec --test-reporter-destination=stdout "$@"
