#!/usr/bin/env bash
# The Java runtime the operator's image carries, and the class-data archive made with it (run by
# the package phase, after Quarkus has built target/quarkus-app):
#
#   runtime.sh JDK[:JDK...] APP [TRAINING_CLASSPATH CRD]
#
# links a runtime from the first JDK of the list that is there into APP/jre (jlink), then starts
# the operator once with that runtime and keeps the classes it loaded on the way in
#   - JDK 25 and later: an ahead-of-time cache (JEP 483/514/515), APP/jre/app.aot;
#   - JDK 17 to 24: a class-data-sharing archive (AppCDS), APP/jre/app-cds.jsa;
# and writes the option that uses it to APP/jvm.args, relative to APP (the image's /deployments,
# its working directory), with Java 25 also the heap options the cache was made with. The training
# run: with the operator's test classpath and its CRD, TrainingRun starts a mock API server
# holding one DatabaseMigration and stops the operator once it has written that resource's first
# status (start-up through a first reconcile); without them, or should that fail, the operator is
# pointed at an address where nothing listens: it boots, starts its controller, fails to list the
# first resources and exits. A CDS archive or an AOT cache is only valid with the very runtime
# that made it: carrying that runtime in the image, instead of the base image's Java, keeps them
# together. The training run uses the chart's GC and JIT options, which the archive must match.
set -euo pipefail
jdk=
IFS=: read -ra candidates <<<"$1"
for candidate in "${candidates[@]}"; do
  if [ -x "$candidate/bin/jlink" ]; then
    jdk=$candidate
    break
  fi
done
if [ -z "$jdk" ]; then
  echo "runtime.sh: none of $1 is a JDK with jlink" >&2
  exit 1
fi
app=$(cd "$2" && pwd)
jre="$app/jre"
# What the operator uses of the JDK (Quarkus, Vert.x and Netty, the fabric8 client, Jackson, JMX
# for the metrics): java.se plus these.
modules=java.se,jdk.unsupported,jdk.management,jdk.crypto.ec,jdk.naming.dns,jdk.zipfs
if ! "$jdk/bin/java" --list-modules | grep -q '^jdk.crypto.ec@'; then
  modules=${modules/,jdk.crypto.ec/} # part of java.base since JDK 22
fi
rm -rf "$jre" "$app/jvm.args"
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --generate-cds-archive --output "$jre"
feature=$("$jre/bin/java" -XshowSettings:properties -version 2>&1 |
  sed -n 's/^ *java\.specification\.version = //p')
train=(-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxRAM=384m -XX:MaxRAMPercentage=40
  -Dquarkus.log.level=OFF)
nowhere=(-Dkubernetes.master=http://127.0.0.1:9 -Dkubernetes.auth.tryKubeConfig=false
  -Dkubernetes.auth.tryServiceAccount=false -Dkubernetes.request.retry.backoffLimit=0
  -Dquarkus.http.port=0)
classpath=${3:-}
crd=${4:-}
# one training run: through a first reconcile where it can, else against no API server
run() {
  if [ -n "$classpath" ] && [ -f "$crd" ] &&
    "${JAVA_HOME:+$JAVA_HOME/bin/}java" -cp "$classpath" dev.schemagate.operator.TrainingRun \
      "$crd" "$app" "$app/jre/bin/java" "${train[@]}" "$@"; then
    echo "runtime: trained through a first reconcile"
  else
    echo "runtime: trained without an API server"
    jre/bin/java "${train[@]}" "${nowhere[@]}" "$@" -jar quarkus-run.jar >/dev/null || true
  fi
}
cd "$app"
# Java 17 checks that the class path's jars are the ones the archive was made with by their
# size and modification time: Jib gives every file of an image the time 1970-01-01T00:00:01Z,
# so they get that time here before the archive is made (Docker's COPY keeps it).
touch -d @1 quarkus-run.jar lib/boot/*.jar
if [ "$feature" -ge 25 ]; then
  # Object headers of 8 bytes instead of 12 (JEP 519), and the character arrays of equal
  # long-lived strings shared (Serial GC does it since JDK 18): the operator's heap is mostly
  # small objects and strings of the objects it caches. The cache must be made with the first.
  heap=(-XX:+UseCompactObjectHeaders -XX:+UseStringDeduplication)
  train+=("${heap[@]}")
  archive=jre/app.aot
  run -XX:AOTCacheOutput=$archive
  option="${heap[*]} -XX:AOTCache=$archive"
else
  archive=jre/app-cds.jsa
  run -XX:ArchiveClassesAtExit=$archive -Xlog:cds=off -Xlog:cds+dynamic=off
  option=-XX:SharedArchiveFile=$archive
fi
if [ ! -s "$archive" ]; then
  echo "runtime.sh: the training run wrote no $archive" >&2
  exit 1
fi
echo "$option" >jvm.args
echo "runtime: Java $feature from $jdk in $jre, $(du -sh "$jre" | cut -f1); $option"
