# schemagate: run the image's own alembic, then report the result (Job contract).
# Exit codes as the schemagate runner's: 6 MigrationLockHeld, 7 LockTimeout (both reported by an
# env.py that runs through schemagate_alembic), 9 MultipleHeads; otherwise alembic's own.
set -u
log="${TMPDIR:-/tmp}/schemagate-alembic.log"
start=$(date +%s)
verb=upgrade
[ "${SCHEMAGATE_DIRECTION:-upgrade}" = downgrade ] && verb=downgrade
target="$SCHEMAGATE_TARGET_REVISION"
clean() { tr -d '"\\' | tr '\t\r\n' '   ' | cut -c1-1500; }
report() { # error message from to applied [lockRetries]
  extra=""
  [ -n "$1" ] && extra=",\"error\":\"$1\""
  [ -n "$2" ] && extra="$extra,\"message\":\"$2\""
  [ -n "${6:-}" ] && [ "${6:-0}" != 0 ] && extra="$extra,\"lockRetries\":$6"
  [ -n "${failed:-}" ] && extra="$extra,\"failedRevision\":\"$failed\""
  printf '{"tool":"alembic","direction":"%s","fromRevision":"%s","toRevision":"%s","applied":[%s]%s,"durationMs":%s}' \
    "$verb" "$3" "$4" "$5" "$extra" "$(( ($(date +%s) - start) * 1000 ))" >"$SCHEMAGATE_RESULT_FILE"
}
failed=""

# 1. More than one head in the image: refuse before touching the database.
heads=$(alembic heads 2>/dev/null | awk 'NF && $1 !~ /^(INFO|WARN|ERROR)/ { print $1 }')
count=$(printf '%s\n' "$heads" | grep -c .)
if [ "$count" -gt 1 ]; then
  list=$(printf '%s\n' "$heads" | paste -sd, - | sed 's/,/, /g')
  msg="the image has $count heads ($list); nothing was run. Merge them into one (alembic merge -m merge $(printf '%s\n' "$heads" | paste -sd' ' -)), build the image again, and target the merge revision"
  echo "ERROR [schemagate] MultipleHeads: $msg" >&2
  report MultipleHeads "$(printf '%s' "$msg" | clean)" "" "" ""
  exit 9
fi
resolved="$target"
[ "$verb" = upgrade ] && { [ "$target" = head ] || [ "$target" = heads ]; } && [ -n "$heads" ] && resolved="$heads"

rev() { alembic current 2>/dev/null | awk 'NF && $1 !~ /^(INFO|WARN)/ { print $1; exit }'; }
from=$(rev)

# 2. The migration (the lock, the lock timeouts and the retries are env.py's, see schemagate_alembic.py).
alembic "$verb" "$SCHEMAGATE_TARGET_REVISION" >"$log" 2>&1
rc=$?
cat "$log"
# "Running upgrade a -> b, description": the revision applied is b (a for a downgrade); a retried
# revision runs more than once and is listed once; "lock retries <revision> <n>" counts its retries.
steps=$(awk -v verb="$verb" '
/\[alembic\.schemagate\] lock retries / { n = split($0, w, " "); retries[w[n - 1]] = w[n]; next }
/Running (upgrade|downgrade) / {
  line = $0; sub(/.*Running (upgrade|downgrade) /, "", line)
  split(line, parts, " -> "); rest = parts[2]; comma = index(rest, ",")
  to = comma ? substr(rest, 1, comma - 1) : rest; desc = comma ? substr(rest, comma + 1) : ""
  sub(/^ +/, "", desc); gsub(/["\\]/, "", desc); gsub(/ *\(.*$/, "", to)
  revision = (verb == "downgrade") ? parts[1] : to
  if (!(revision in seen)) { order[++count] = revision; seen[revision] = 1 }
  description[revision] = desc
}
END {
  for (i = 1; i <= count; i++) {
    r = order[i]; extra = (retries[r] > 0) ? ",\"lockRetries\":" retries[r] : ""
    printf "%s{\"revision\":\"%s\",\"description\":\"%s\"%s}", sep, r, description[r], extra; sep = ","
  }
}' "$log")
to=$(rev)
if [ "$rc" -eq 0 ]; then
  # The revision reached, never the literal "head": alembic current, else the last one run, else the resolved target.
  if [ -z "$to" ]; then
    to=$(printf '%s' "$steps" | awk -F'"revision":"' 'NF > 1 { split($NF, r, "\""); print r[1] }')
    [ -z "$to" ] && [ "$verb" = upgrade ] && to="$resolved"
    [ -z "$to" ] && to="$from"
  fi
  report "" "" "$from" "$to" "$steps"
  exit 0
fi
failed=$(printf '%s' "$steps" | awk -F'"revision":"' 'NF > 1 { split($NF, r, "\""); print r[1] }')
line=$(grep -E '\[alembic\.schemagate\] (MigrationLockHeld|LockTimeout|InvalidConfiguration|MigrationFailed): ' "$log" | tail -n 1)
reason=""
if [ -n "$line" ]; then
  reason=$(printf '%s' "$line" | sed -E 's/.*\[alembic\.schemagate\] ([A-Za-z]+): .*/\1/')
  msg=$(printf '%s' "$line" | sed -E 's/.*\[alembic\.schemagate\] [A-Za-z]+: //' | clean)
else
  msg=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | clean)
fi
retries=$(awk -v r="$failed" '/\[alembic\.schemagate\] lock retries / { n = split($0, w, " "); if (w[n - 1] == r) c = w[n] } END { print c + 0 }' "$log")
report "$reason" "$msg" "$from" "$to" "" "$retries"
case "$reason" in
  MigrationLockHeld) exit 6 ;;
  LockTimeout) exit 7 ;;
  InvalidConfiguration) exit 2 ;;
esac
exit "$rc"
