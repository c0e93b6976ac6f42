"""schemagate's Alembic Job: runs the image's own alembic, then writes the result (the Job contract).

SCHEMAGATE_DIRECTION is upgrade (the default), downgrade, plan (reports the plan and changes
nothing) or check (reports the schema's fingerprint for drift detection and changes nothing);
SCHEMAGATE_TARGET_REVISION the revision to reach; the result goes to SCHEMAGATE_RESULT_FILE, at most
4096 bytes, as the runner's. Exit codes as the schemagate runner's: 2 InvalidConfiguration, 6
MigrationLockHeld and 7 LockTimeout (both reported by an env.py that runs through
schemagate_alembic), 9 MultipleHeads, 10 PlanChanged, 11 MigrationRunning, 13 BaselineRequired;
otherwise alembic's own.

A revision is an expand migration unless its module says ``schemagate_kind = "contract"``: it
removes what the app version before it needs. With SCHEMAGATE_CONTRACT=hold an upgrade stops before
the first pending contract migration and reports the rest as held (the operator runs them once the
app has rolled out). A database whose schema holds objects but has no version table is adopted at
SCHEMAGATE_BASELINE (alembic stamp, then the revisions after it), or refused before anything
changes (BaselineRequired).

Everything it prints and reports passes through schemagate's redaction: the secrets of its
environment in every encoding, and every credential shape, SQLAlchemy's [SQL: ...] and
[parameters: ...] included. The image's alembic runs with this kit last on its PYTHONPATH, so that
env.py imports schemagate_alembic without the image carrying it (a copy the image carries, next to
alembic.ini, comes first).
"""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time

from schemagate_alembic import lock_key
from schemagate_alembic.redaction import redact, secrets_in

KIT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN_SCRIPT = os.path.join(KIT, "schemagate_alembic_run.py")
RESULT_LIMIT = 4096
EXIT_INVALID_CONFIGURATION = 2
EXIT_LOCK_HELD = 6
EXIT_LOCK_TIMEOUT = 7
EXIT_MULTIPLE_HEADS = 9
EXIT_PLAN_CHANGED = 10
EXIT_MIGRATION_RUNNING = 11
EXIT_BASELINE_REQUIRED = 13
KINDS = ("expand", "contract")

_EXCEPTION = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Failure|Exit|Interrupt)\b|FAILED\b)")
_REASON = re.compile(r"\[alembic\.schemagate\] (MigrationLockHeld|LockTimeout|InvalidConfiguration|MigrationFailed): (.*)")
_RUNNING = re.compile(r".*Running (?:upgrade|downgrade) ")
_RETRIES = "[alembic.schemagate] lock retries "
_SECRETS = secrets_in(os.environ)


def fingerprint_sql():
    """The schemagate runner's schema-fingerprint.sql, put next to this file when the kit is built."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "fingerprint.sql"), encoding="utf-8") as f:
        return f.read()


_HOLDER_SQL = (
    "SELECT a.pid, a.usename, a.application_name, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
)


def error_line(lines):
    """The exception's own line (with the first line of its [SQL: ...]), not a traceback frame nor
    SQLAlchemy's "Background on this error" footer; else the last line that says something."""
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if _EXCEPTION.match(line):
            sql = [x.strip() for x in lines[i + 1:i + 3] if x.strip().startswith("[SQL:")]
            return line + (" " + sql[0] if sql else "")
    for line in reversed(lines):
        line = line.strip()
        if line and not line.startswith(("(Background on this error at:", "[parameters:")):
            return line
    return ""


def cut(text, size):
    return text if text is None or len(text) <= size else text[: size - 3] + "..."


def one_line(text):
    return re.sub(r"[\t\r\n]", " ", text)


def _size(result):
    return len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def finish(result, log_file, failed, schema_file=None):
    """The result as written: the Python that ran it, the schema a run left, the error line of the
    log when a failure has no message, every text redacted, at most 4096 bytes (the schema's
    per-table digests go first, then the tail of the applied list, then the message)."""
    result = dict(result)
    result["python"] = os.environ.get("SCHEMAGATE_PYTHON", "")  # the one this runs in
    if schema_file and not failed:
        try:
            with open(schema_file, encoding="utf-8") as f:
                result["schema"] = json.load(f)
        except (OSError, ValueError):
            pass
    if failed and not result.get("message"):
        try:
            with open(log_file, encoding="utf-8", errors="replace") as f:
                result["message"] = error_line(f.read().splitlines())
        except OSError:
            pass
    for key, value in list(result.items()):
        if isinstance(value, str):
            result[key] = redact(value, _SECRETS)
    result["message"] = cut(result.get("message"), 1500)
    for step in result.get("applied") or []:
        step["description"] = cut(redact(step.get("description"), _SECRETS), 120)
    if result.get("message") is None:
        del result["message"]
    schema = result.get("schema")
    if _size(result) > RESULT_LIMIT and isinstance(schema, dict) and "tables" in schema:
        del schema["tables"]
        schema["tablesOmitted"] = True
    while _size(result) > RESULT_LIMIT and result.get("applied"):
        result["applied"].pop()
        result["omitted"] = result.get("omitted", 0) + 1
    if _size(result) > RESULT_LIMIT:
        for held in result.get("held") or []:
            held.pop("description", None)  # the revisions and kinds are what the operator needs
    while _size(result) > RESULT_LIMIT and result.get("message"):
        result["message"] = cut(result["message"], max(3, len(result["message"]) // 2))
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False)


def plan_result(current, target, history, sql, millis, kinds=None):
    """The plan (Job contract, direction plan): the revisions from the current one to the target
    (alembic history, oldest first) and their offline SQL (alembic upgrade --sql), both redacted
    already; the hash covers them, the current revision and SCHEMAGATE_PLAN_INPUTS. Returns the
    result, at most 4096 bytes (the SQL is cut first: the log has all of it), and the hash."""
    revs = []
    for line in history.splitlines():
        m = re.match(r"^\s*(\S+) -> (\S+?)(?: \([^)]*\))*, ?(.*)$", line)
        if m and m.group(2) != current:
            revs.append((m.group(2), m.group(3).strip()))
    revs.reverse()
    lines = ["schemagate-plan 1", "inputs " + os.environ.get("SCHEMAGATE_PLAN_INPUTS", ""),
             "target " + target, "current " + current]
    lines += ["pending %s %s" % r for r in revs]
    lines.append("sql " + hashlib.sha256(sql.encode("utf-8")).hexdigest())
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
    result = {"tool": "alembic", "direction": "plan", "fromRevision": current,
              "toRevision": revs[-1][0] if revs else current, "applied": [],
              "plan": {"hash": digest,
                       "pending": [_pending(r, d, kinds) for r, d in revs],
                       "sqlBytes": len(sql.encode("utf-8")), "sqlTruncated": False, "sql": sql},
              "python": os.environ.get("SCHEMAGATE_PYTHON", ""), "durationMs": int(millis)}
    while _size(result) > RESULT_LIMIT and result["plan"]["sql"]:
        result["plan"]["sqlTruncated"] = True
        text = result["plan"]["sql"]
        result["plan"]["sql"] = text[: min(len(text) - 1, len(text) * 9 // 10)]
    while _size(result) > RESULT_LIMIT and result["plan"]["pending"]:
        result["plan"]["pending"].pop()
        result["plan"]["omitted"] = result["plan"].get("omitted", 0) + 1
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False), digest


def _pending(revision, description, kinds):
    item = {"revision": revision, "description": cut(description, 120)}
    if kinds and revision in kinds:
        item["kind"] = kinds[revision]
    return item


def applied_steps(lines, verb):
    """The revisions a run applied, from Alembic's "Running upgrade a -> b, description" lines (b;
    a for a downgrade), each once (a retried revision runs more than once), with the retries that
    schemagate_alembic's "lock retries <revision> <n>" lines count."""
    retries, order, description = {}, [], {}
    for line in lines:
        if _RETRIES in line:
            words = line.split()
            retries[words[-2]] = words[-1]
            continue
        m = _RUNNING.match(line)
        if not m:
            continue
        parts = line[m.end():].split(" -> ")
        rest = parts[1] if len(parts) > 1 else ""
        comma = rest.find(",")
        to = rest[:comma] if comma >= 0 else rest
        to = re.sub(r" *\(.*$", "", to)
        revision = parts[0] if verb == "downgrade" else to
        if revision not in description:
            order.append(revision)
        description[revision] = rest[comma + 1:].lstrip(" ") if comma >= 0 else ""
    steps = []
    for revision in order:
        step = {"revision": revision, "description": description[revision]}
        if _count(retries.get(revision)) > 0:
            step["lockRetries"] = _count(retries[revision])
        steps.append(step)
    return steps, retries


def _count(text):
    try:
        return int(text)
    except (TypeError, ValueError):
        return 0


def _first_words(text, skip):
    return [line.split()[0] for line in text.splitlines() if line.split() and not re.match(skip, line.split()[0])]


class Job:
    """One run of the Job's container: the direction the environment names, against the project in
    the working directory."""

    def __init__(self, environ):
        self.env = environ
        self.direction = environ.get("SCHEMAGATE_DIRECTION") or "upgrade"
        self.verb = "downgrade" if self.direction == "downgrade" else "upgrade"
        self.target = environ.get("SCHEMAGATE_TARGET_REVISION", "")
        self.result_file = environ["SCHEMAGATE_RESULT_FILE"]
        self.log = os.path.join(environ.get("TMPDIR") or "/tmp", "schemagate-alembic.log")
        self.started = time.time()
        self.failed = ""
        self.outcome = "failed"
        self.child = None
        self.held = []
        self.baseline = ""
        self.kinds = {}
        path = environ.get("PYTHONPATH")
        self.child_env = dict(environ, PYTHONPATH=(path + os.pathsep if path else "") + KIT)

    # --- processes

    def _start(self, args, stdout, stderr):
        self.child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=self.child_env)
        return self.child

    def _ended(self, process):
        rc = process.wait()
        self.child = None
        return 128 - rc if rc < 0 else rc

    def stop(self, signum, frame):
        """SIGTERM (the pod deleted, the Job's deadline): passed on to alembic, whose run then ends
        as its env.py ends it (the lock released, the revision under way rolled back); the result
        says how it ended."""
        if self.child is None:
            sys.exit(128 + signum)
        self.child.send_signal(signum)

    def output(self, *args):
        """What a command prints on stdout (its stderr is not kept)."""
        p = self._start(list(args), subprocess.PIPE, subprocess.DEVNULL)
        out = p.communicate()[0]
        self._ended(p)
        return out.decode("utf-8", "replace")

    def masked(self, *args):
        """What a command prints on stdout, redacted; its stderr, redacted, goes to the log."""
        p = self._start(list(args), subprocess.PIPE, subprocess.PIPE)
        out, err = p.communicate()
        rc = self._ended(p)
        with open(self.log, "a", encoding="utf-8") as f:
            f.write(redact(err.decode("utf-8", "replace"), _SECRETS))
        return rc, redact(out.decode("utf-8", "replace"), _SECRETS)

    def streamed(self, args, to_log):
        """Runs a command with everything it prints redacted, line by line, onto this one's stdout
        (the Job's log) as it comes, and into the log file when to_log. Returns its exit code."""
        p = self._start(args, subprocess.PIPE, subprocess.STDOUT)
        log = open(self.log, "w", encoding="utf-8") if to_log else None
        try:
            for raw in iter(p.stdout.readline, b""):
                line = redact(raw.decode("utf-8", "replace"), _SECRETS)
                sys.stdout.write(line)
                sys.stdout.flush()
                if log:
                    log.write(line)
        finally:
            if log:
                log.close()
        return self._ended(p)

    def alembic(self, *args):
        return ["alembic"] + list(args)

    def schema_pass(self, mode, out_file):
        return self.streamed(self.pass_command("schema", mode, out_file, self.log, repr(self.started)), mode == "check")

    def pass_command(self, *args):
        python = self.env.get("SCHEMAGATE_PYTHON") or sys.executable
        return [python, RUN_SCRIPT] + list(args)

    def read_pass(self, name, args_of, what):
        """Runs a pass of this program that writes JSON to a file, args_of(file) its arguments (what
        it prints, redacted, goes to the Job's log); returns what it wrote, or None when it failed
        (the error is in the log)."""
        out_file = "%s.%s" % (self.log, name)
        if os.path.exists(out_file):
            os.remove(out_file)
        rc = self.streamed(self.pass_command(*args_of(out_file)), False)
        try:
            with open(out_file, encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            self.say("ERROR", "could not read %s (exit %d)" % (what, rc))
            return None

    # --- the result

    def millis(self):
        return int((time.time() - self.started) * 1000)

    def write(self, text):
        with open(self.result_file, "w", encoding="utf-8") as f:
            f.write(text)

    def report(self, error, message, frm, to, applied, lock_retries=0):
        result = {"tool": "alembic", "direction": self.verb, "fromRevision": frm, "toRevision": to,
                  "applied": applied}
        if error:
            result["error"] = error
        if message:
            result["message"] = cut(one_line(message), 1500)
        if lock_retries:
            result["lockRetries"] = lock_retries
        if self.failed:
            result["failedRevision"] = self.failed
        if self.held:
            result["held"] = [dict(h) for h in self.held]
        if self.baseline:
            result["baseline"] = self.baseline
        result["durationMs"] = self.millis()
        self.write(finish(result, self.log, self.outcome == "failed", self.log + ".schema"))

    def say(self, level, text):
        sys.stderr.write("%-5s [schemagate] %s\n" % (level, text))
        sys.stderr.flush()

    # --- the run

    def current(self):
        revisions = _first_words(self.output(*self.alembic("current")), r"^(INFO|WARN)")
        return revisions[0] if revisions else ""

    def run(self):
        for name in (self.log + ".schema", self.log + ".check"):
            if os.path.exists(name):
                os.remove(name)
        if self.direction == "check":
            return self.check()
        # 1. More than one head in the image: refuse before touching the database.
        heads = _first_words(self.output(*self.alembic("heads")), r"^(INFO|WARN|ERROR)")
        if len(heads) > 1:
            message = ("the image has %d heads (%s); nothing was run. Merge them into one (alembic merge -m merge %s),"
                       " build the image again, and target the merge revision") % (len(heads), ", ".join(heads), " ".join(heads))
            self.say("ERROR", "MultipleHeads: " + message)
            self.report("MultipleHeads", message, "", "", [])
            return EXIT_MULTIPLE_HEADS
        resolved = self.target
        if self.verb == "upgrade" and self.target in ("head", "heads") and heads:
            resolved = heads[0]
        frm = self.current()
        if not frm and self.direction in ("upgrade", "plan"):
            ended = self.adopt()
            if ended is not None:
                return ended
            frm = self.baseline  # stamped there (a plan only starts from it), or "" as before
        stop = self.target
        if self.verb == "upgrade":
            pending = self.read_pass("kinds", lambda out: ["kinds", frm, self.target, out], "the revisions' kinds")
            if pending is None:
                self.report("InvalidConfiguration", "the revisions from %s to %s could not be read (their kind:"
                            " schemagate_kind in each module); the log says why; nothing was run"
                            % (frm or "base", self.target), frm, frm, [])
                return EXIT_INVALID_CONFIGURATION
            self.kinds = dict((p["revision"], p["kind"]) for p in pending)
            if self.direction == "upgrade" and self.env.get("SCHEMAGATE_CONTRACT") == "hold":
                stop = self.hold_contract(pending, frm)
                if stop is None:
                    return self.held_all(frm)
        approved = self.env.get("SCHEMAGATE_APPROVED_PLAN", "")
        if self.direction == "plan" or (self.verb == "upgrade" and approved):
            ended = self.plan(frm, approved)
            if ended is not None:
                return ended
        return self.migrate(frm, resolved, stop)

    def adopt(self):
        """A database without the version table: nothing to do when its schema is empty; adopted at
        SCHEMAGATE_BASELINE when it holds objects (alembic stamp; a plan only reads from there); refused
        with BaselineRequired when no baseline is given. Returns the exit code when the Job ends here."""
        found = self.read_pass(
            "adopt", lambda out: ["schema", "adopt", out, self.log, repr(self.started)], "the database's history")
        baseline = self.env.get("SCHEMAGATE_BASELINE", "").strip()
        if found is None:
            self.report("", "", "", "", [])
            return 1
        where = "%s.%s" % (found["schema"], found["table"])
        if found["history"] or not found["objects"]:
            if baseline and not found["objects"]:
                self.say("INFO", "the schema %s is empty: the baseline %s is not needed; every revision runs" % (found["schema"], baseline))
            return None
        shown = found["objects"][:5]
        named = "%d %s (%s%s)" % (len(found["objects"]), "object" if len(found["objects"]) == 1 else "objects",
                                  ", ".join(shown), ", ..." if len(found["objects"]) > 5 else "")
        if not baseline:
            message = ("the schema %s holds %s but no version table %s: which revisions made them cannot be known, and"
                       " running them again would fail on them or change them. Give the revision the database is at as"
                       " its baseline (spec.baseline.revision; SCHEMAGATE_BASELINE): it is stamped, and only the"
                       " revisions after it run. Nothing was changed") % (found["schema"], named, where)
            self.say("ERROR", "BaselineRequired: " + message)
            self.report("BaselineRequired", message, "", "", [])
            return EXIT_BASELINE_REQUIRED
        self.baseline = baseline
        if self.direction == "plan":
            self.say("INFO", "the database has no version table: the plan starts from the baseline %s (spec.baseline)" % baseline)
            return None
        rc = self.streamed(self.alembic("stamp", baseline), True)
        if rc != 0:
            self.report("", "", "", "", [])
            return rc
        self.say("INFO", "adopted the database: stamped %s as the baseline in %s (the schema held %s); the revisions"
                 " after it run" % (baseline, where, named))
        return None

    def hold_contract(self, pending, frm):
        """SCHEMAGATE_CONTRACT=hold: the revision to stop at, the last one before the first pending
        contract migration (the target when there is none); None when the first pending one is a
        contract migration. The rest is held."""
        for i, p in enumerate(pending):
            if p["kind"] == "contract":
                self.held = pending[i:]
                stop = pending[i - 1]["revision"] if i > 0 else None
                self.say("INFO", "holding back %d migration(s) from the contract migration %s %s on"
                         " (SCHEMAGATE_CONTRACT=hold): %s" % (len(self.held), p["revision"], p["description"],
                                                            "migrating to " + stop if stop else "nothing to apply before it"))
                return stop
        return self.target

    def held_all(self, frm):
        """Nothing to apply before the first contract migration: the database stays where it is."""
        self.outcome = "ok"
        schema_file = self.log + ".schema"
        self.schema_pass("after", schema_file)
        self.report("", "", frm, frm, [])
        return 0

    def check(self):
        """The drift check: the revision and the schema's fingerprint, read on the connection of the
        project's env.py, run as `alembic current` runs it (nothing is changed, no lock is taken,
        any env.py works). This Job takes no lock of its own; a run through schemagate_alembic
        holds its migration lock, and a check that finds it held does not wait: exit 11,
        MigrationRunning, no schema."""
        self.verb = "check"
        check_file = self.log + ".check"
        rc = self.schema_pass("check", check_file)
        if rc in (0, EXIT_MIGRATION_RUNNING) and os.path.exists(check_file) and os.path.getsize(check_file):
            with open(check_file, encoding="utf-8") as f:
                self.write(f.read())
            return rc
        self.report("", "", "", "", [])
        return rc

    def plan(self, frm, approved):
        """The plan (direction plan): the revisions from the current one to the target and their
        offline SQL (alembic upgrade --sql current:target), redacted; nothing is changed. An upgrade
        with an approved plan (SCHEMAGATE_APPROVED_PLAN) makes the plan again first and runs only when
        it is still that plan (exit 10, PlanChanged, otherwise). Returns the exit code when the Job
        ends here."""
        if self.direction == "plan":
            self.verb = "plan"
        open(self.log, "w").close()
        _, history = self.masked(*self.alembic("history", "-r", "%s:%s" % (frm, self.target)))
        sql_range = "%s:%s" % (frm, self.target) if frm else self.target
        rc, sql = self.masked(*self.alembic("upgrade", "--sql", sql_range))
        if rc != 0:
            with open(self.log, encoding="utf-8") as f:
                sys.stdout.write(f.read())
            self.report("InvalidConfiguration", "alembic upgrade --sql %s failed: the revisions must support offline mode"
                        " (context.is_offline_mode() in env.py)" % sql_range, frm, frm, [])
            return EXIT_INVALID_CONFIGURATION
        result, digest = plan_result(frm, self.target, history, sql, self.millis(), self.kinds)
        if self.direction == "plan":
            sys.stdout.write(sql)
            sys.stdout.flush()
            count = len([line for line in history.splitlines() if line])
            self.say("INFO", "plan %s: %d revision(s) from %s to %s; nothing was changed" % (digest, count, frm or "base", self.target))
            self.write(result)
            return 0
        if digest != approved:
            message = ("the approved plan %s is no longer the plan: the database or the migrations changed since it was made"
                       " (the plan now is %s); nothing was applied. Review the new plan and approve it") % (approved, digest)
            self.say("ERROR", "PlanChanged: " + message)
            self.report("PlanChanged", message, frm, frm, [])
            return EXIT_PLAN_CHANGED
        self.say("INFO", "the plan %s is the approved one" % digest)
        return None

    def migrate(self, frm, resolved, stop):
        """The migration: alembic upgrade or downgrade to the target, or to where a held contract
        part stops it (the lock, the lock timeouts and the retries are env.py's, through
        schemagate_alembic)."""
        rc = self.streamed(self.alembic(self.verb, stop), True)
        with open(self.log, encoding="utf-8", errors="replace") as f:
            lines = f.read().splitlines()
        steps, retries = applied_steps(lines, self.verb)
        for step in steps:
            if step["revision"] in self.kinds:
                step["kind"] = self.kinds[step["revision"]]
        to = self.current()
        if rc == 0:
            # the revision reached, never the literal "head": alembic current, else the last one
            # run, else the resolved target
            if not to:
                to = steps[-1]["revision"] if steps else (
                    (stop if stop != self.target else resolved) if self.verb == "upgrade" else "") or frm
            self.outcome = "ok"
            # the schema the run left: its fingerprint (drift detection), read as a check reads it,
            # right after the run (not under its lock, which is env.py's)
            schema_file = self.log + ".schema"
            self.schema_pass("after", schema_file)
            if not (os.path.exists(schema_file) and os.path.getsize(schema_file)):
                self.say("WARN", "could not read the schema's fingerprint: the result has none")
            self.report("", "", frm, to, steps)
            return 0
        self.failed = steps[-1]["revision"] if steps else ""
        reason = message = ""
        for line in lines:
            m = _REASON.search(line)
            if m:
                reason, message = m.group(1), m.group(2)
        self.report(reason, message, frm, to, [], _count(retries.get(self.failed)))
        return {"MigrationLockHeld": EXIT_LOCK_HELD, "LockTimeout": EXIT_LOCK_TIMEOUT,
                "InvalidConfiguration": EXIT_INVALID_CONFIGURATION}.get(reason, rc)


def schema_pass(mode, out_file, log_file, started):
    """Runs the project's env.py as `alembic current` does (a callback in place of the migrations,
    dont_mutate: nothing is changed, no lock is taken) and reads on its connection the revision and
    the fingerprint of the managed schema: current_schema(), or env.py's version_table_schema; its
    version table is left out. mode "after" (a run succeeded): writes the schema object. mode
    "check": writes the check's result; when a run holds the migration lock of schemagate_alembic
    (before or after the read) or the revision moved during it, the result has no schema and the
    exit code is 11 (MigrationRunning). Returns the exit code."""
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())  # env.py's imports of the project, found last
    from alembic.config import CommandLine
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    found = {}

    def holder(connection, key):
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        row = connection.execute(text(_HOLDER_SQL), {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).first()
        return None if row is None else 'pid %s (user %s, application "%s", %s)' % (
            row[0], row[1], row[2] or "", row[3] or "state unknown")

    def read(heads, context):
        connection = context.connection
        schema = context.opts.get("version_table_schema") or connection.execute(text("SELECT current_schema()")).scalar()
        table = context.opts.get("version_table") or "alembic_version"
        if mode == "adopt":
            quoted = '"%s"."%s"' % (schema.replace('"', '""'), table.replace('"', '""'))
            found["adopt"] = {
                "schema": schema, "table": table,
                "history": bool(connection.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": quoted}).scalar()),
                "objects": [r[0] for r in connection.execute(text(_OBJECTS_SQL), {"schema": schema, "history": table})]}
            return []
        key = lock_key(schema, table)
        found["revision"] = ",".join(sorted(heads))
        held = holder(connection, key) if mode == "check" else None
        if held is None:
            found["schema"] = fingerprint(connection, schema, table)
        if mode == "check":
            held = held or holder(connection, key)
            now = ",".join(sorted(context.get_current_heads()))
            if held:
                found["running"] = "a run holds the migration lock of %s.%s: %s" % (schema, table, held)
            elif now != found["revision"]:
                found["running"] = "a run took the revision from %s to %s during the check" % (
                    found["revision"] or "base", now or "base")
        return []

    class SchemaPass(CommandLine):
        def run_cmd(self, config, options):
            script = ScriptDirectory.from_config(config)
            with EnvironmentContext(config, script, fn=read, dont_mutate=True):
                script.run_env()

    SchemaPass(prog="alembic").main(["current"])
    if mode == "adopt":
        with open(out_file, "w", encoding="utf-8") as f:
            f.write(json.dumps(found["adopt"]))
        return 0
    if mode == "after":
        with open(out_file, "w", encoding="utf-8") as f:
            f.write(json.dumps(found["schema"], separators=(",", ":")))
        return 0
    result = {"tool": "alembic", "direction": "check", "fromRevision": found.get("revision", ""),
              "toRevision": found.get("revision", ""), "applied": []}
    if "running" in found:
        result["skipped"] = "MigrationRunning"
        result["message"] = found["running"] + "; the check did not wait, reported no schema and changed nothing" \
            " (the next check runs when the run is done)"
        sys.stderr.write("WARN  [schemagate] MigrationRunning: %s\n" % result["message"])
    else:
        result["schema"] = found["schema"]
        sys.stderr.write("INFO  [schemagate] schema %s at %s; nothing was changed\n" % (
            found["schema"]["fingerprint"], found.get("revision") or "base"))
    result["durationMs"] = int((time.time() - float(started)) * 1000)
    with open(out_file, "w", encoding="utf-8") as f:
        f.write(finish(result, log_file, False))
    return EXIT_MIGRATION_RUNNING if "running" in found else 0


_OBJECTS_SQL = (
    "SELECT kind || ' ' || name FROM ("
    " SELECT CASE r.relkind WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'"
    "   WHEN 'm' THEN 'materialized view' ELSE 'table' END AS kind, r.relname AS name"
    " FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace"
    " WHERE n.nspname = :schema AND r.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
    "   AND r.relname <> :history"
    "   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = r.oid"
    "     AND d.deptype IN ('a', 'i') AND r.relkind = 'S')"
    " UNION ALL"
    " SELECT 'function', p.proname FROM pg_proc p"
    " JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = :schema"
    "   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')"
    ") o ORDER BY name")


def kind_of(script):
    """A revision's kind: schemagate_kind in its module, expand when it says none."""
    kind = getattr(script.module, "schemagate_kind", "expand")
    if kind not in KINDS:
        raise ValueError("revision %s: schemagate_kind is %r; it must be \"expand\" or \"contract\"" % (script.revision, kind))
    return kind


def kinds_pass(frm, target, out_file):
    """Reads the revisions from frm (exclusive) to target from the project's scripts (no database),
    oldest first, with their descriptions and kinds; writes them as JSON."""
    if os.getcwd() not in sys.path:
        sys.path.append(os.getcwd())
    from alembic.config import CommandLine
    from alembic.script import ScriptDirectory
    found = []

    class KindsPass(CommandLine):
        def run_cmd(self, config, options):
            script = ScriptDirectory.from_config(config)
            for s in script.iterate_revisions(target, frm or "base"):
                if s.revision != frm:
                    found.append({"revision": s.revision, "description": (s.doc or "").strip(), "kind": kind_of(s)})

    KindsPass(prog="alembic").main(["heads"])
    found.reverse()
    with open(out_file, "w", encoding="utf-8") as f:
        f.write(json.dumps(found))
    return 0


def fingerprint(connection, schema, history):
    """The schema's fingerprint, as the runner's SchemaFingerprint makes it: the same query, run
    with search_path set to pg_catalog (and set back), and the same hashes of its canonical texts."""
    from sqlalchemy import text
    path = connection.execute(text("SELECT current_setting('search_path')")).scalar()
    connection.execute(text("SELECT set_config('search_path', 'pg_catalog', false)"))
    try:
        rows = connection.execute(text(fingerprint_sql()), {"schema": schema, "history": history}).fetchall()
    finally:
        connection.execute(text("SELECT set_config('search_path', :path, false)"), {"path": path})
    tables, whole = {}, hashlib.sha256()
    for namespace, name, canonical in rows:
        tables[namespace + "." + name] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
        whole.update((canonical + "\n\n").encode("utf-8"))
    return {"fingerprint": whole.hexdigest()[:16], "tables": tables}


def main(argv):
    if argv and argv[0] == "schema":
        return schema_pass(*argv[1:5])
    if argv and argv[0] == "kinds":
        return kinds_pass(*argv[1:4])
    job = Job(os.environ)
    signal.signal(signal.SIGTERM, job.stop)
    return job.run()
