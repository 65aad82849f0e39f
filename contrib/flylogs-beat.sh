#!/bin/sh
# FLYLOGS-BEAT lines for flylogs' canary, for images without Python: the same format as
# `flylogs beat` (see the README's "The canary"). POSIX sh, date(1) with %N (GNU, busybox) or
# whole seconds without it. FLYLOGS_BEAT_EVERY: seconds between beats (default 30);
# FLYLOGS_BEAT_COUNT: stop after that many (default: never). Exits 0 on SIGTERM.
every="${FLYLOGS_BEAT_EVERY:-30}"
count="${FLYLOGS_BEAT_COUNT:-}"
boot="$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
seq=0
trap 'exit 0' TERM INT
while [ -z "$count" ] || [ "$seq" -lt "$count" ]; do
  at="$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)"
  case "$at" in
    *.[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]Z) ;;
    *) at="$(date -u +%Y-%m-%dT%H:%M:%S).000000000Z" ;;
  esac
  echo "FLYLOGS-BEAT seq=$seq at=$at boot=$boot"
  seq=$((seq + 1))
  if [ -n "$count" ] && [ "$seq" -ge "$count" ]; then break; fi
  sleep "$every" &
  wait $!
done
