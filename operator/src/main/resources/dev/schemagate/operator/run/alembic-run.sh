# schemagate: run the image's own alembic, then report the result (Job contract).
set -u
log="${TMPDIR:-/tmp}/schemagate-alembic.log"
rev() { alembic current 2>/dev/null | awk 'NF && $1 !~ /^(INFO|WARN)/ { print $1; exit }'; }
from=$(rev)
start=$(date +%s)
verb=upgrade
[ "${SCHEMAGATE_DIRECTION:-upgrade}" = downgrade ] && verb=downgrade
alembic "$verb" "$SCHEMAGATE_TARGET_REVISION" >"$log" 2>&1
rc=$?
cat "$log"
# "Running upgrade a -> b, description": the revision applied is b (a for a downgrade).
steps=$(awk -v verb="$verb" '/Running (upgrade|downgrade) / {
  line = $0; sub(/.*Running (upgrade|downgrade) /, "", line)
  split(line, parts, " -> "); rest = parts[2]; comma = index(rest, ",")
  to = comma ? substr(rest, 1, comma - 1) : rest; desc = comma ? substr(rest, comma + 1) : ""
  sub(/^ +/, "", desc); gsub(/["\\]/, "", desc); gsub(/ *\(.*$/, "", to)
  revision = (verb == "downgrade") ? parts[1] : to
  printf "%s{\"revision\":\"%s\",\"description\":\"%s\"}", sep, revision, desc; sep = ","
}' "$log")
to=$(rev)
ms=$(( ($(date +%s) - start) * 1000 ))
if [ "$rc" -eq 0 ]; then
  printf '{"tool":"alembic","direction":"%s","fromRevision":"%s","toRevision":"%s","applied":[%s],"durationMs":%s}' \
    "$verb" "$from" "$to" "$steps" "$ms" >"$SCHEMAGATE_RESULT_FILE"
else
  failed=$(printf '%s' "$steps" | awk -F'"revision":"' 'NF > 1 { split($NF, r, "\""); print r[1] }')
  msg=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1 | tr -d '"\\' | tr '\t' ' ' | cut -c1-1500)
  printf '{"tool":"alembic","direction":"%s","fromRevision":"%s","toRevision":"%s","applied":[],"failedRevision":"%s","message":"%s","durationMs":%s}' \
    "$verb" "$from" "$to" "$failed" "$msg" "$ms" >"$SCHEMAGATE_RESULT_FILE"
fi
exit "$rc"
