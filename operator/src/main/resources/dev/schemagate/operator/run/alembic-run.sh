# schemagate: run the image's own alembic, then report the result (Job contract).
# Exit codes as the schemagate runner's: 6 MigrationLockHeld, 7 LockTimeout (both reported by an
# env.py that runs through schemagate_alembic), 9 MultipleHeads, 10 PlanChanged, 11 MigrationRunning;
# otherwise alembic's own. SCHEMAGATE_DIRECTION=plan reports the plan and changes nothing;
# SCHEMAGATE_DIRECTION=check reports the schema's fingerprint (drift detection) and changes nothing.
# Everything it prints and reports passes through schemagate's redaction (in the Python that runs
# alembic): the secrets of its environment in every encoding, and every credential shape, SQLAlchemy's
# [SQL: ...] and [parameters: ...] included. The result is capped at 4096 bytes, as the runner's.
set -u

# --- schemagate python: begin
# The Python that runs this wrapper's own passes (the redaction of everything it prints and
# reports, the plan, the schema's fingerprint), chosen before anything runs: the first of these that
# can import alembic and every module the project's env.py imports (a module env.py imports inside
# a try, or under `if TYPE_CHECKING`, is not required):
#   1. SCHEMAGATE_PYTHON (spec.env), when it is set: that one alone, a path or a name on PATH;
#   2. the Python the image's `alembic` runs: the one its #! line names (`#!/usr/bin/env python3`
#      too), or, when it is a shell script (a shim such as `exec /venv/bin/python -m alembic "$@"`,
#      or pip's `'''exec' "/long/path/python" "$0" "$@"`), the one its exec line names;
#   3. python3 on PATH; 4. python on PATH.
# Each is asked by running a probe from the project's folder (nothing of what the probe's imports
# print is kept). Every pass (the probe too) moves the working directory, which `python -c` puts
# first on sys.path, to its end: a folder or file of the project (alembic/, json.py) is then found
# only when nothing installed has its name, yet the project's modules still import as under
# `python -m alembic`. Not `-P` (Python 3.11 and newer only) nor `-I`, which also drops PYTHONPATH
# and the user's site-packages, on which images rely (ENV PYTHONPATH=/app, pip install --user).
# Leaves py (exported as SCHEMAGATE_PYTHON, which the result reports as "python"); when none fits,
# writes the result (reason InvalidConfiguration, exit 2) before anything has run, and exits.
py_probe=$(cat <<'PY'
import sys
if sys.path and sys.path[0] == "":
    sys.path.append(sys.path.pop(0))
import os

out = os.fdopen(3, "w")


def answer(ok, text):
    out.write(text + "\n")
    out.flush()
    os._exit(0 if ok else 1)


if sys.version_info < (3, 7):
    answer(False, "Python %d.%d is too old (3.7 or newer)" % sys.version_info[:2])
try:
    import alembic
    from alembic.config import CommandLine
    from alembic.script import ScriptDirectory
except ImportError as e:
    found = sys.modules.get("alembic")
    if found is None:
        answer(False, "No module named 'alembic'")
    where = getattr(found, "__file__", None)
    if not where:  # a folder named alembic, found only because nothing installed has the name
        answer(False, "No module named 'alembic' (%s is a folder, not the package)" % list(found.__path__)[0])
    if os.path.dirname(os.path.dirname(os.path.abspath(where))) == os.getcwd():
        answer(False, "No module named 'alembic' (%s is the project's, not the package)" % where)
    answer(False, "cannot import alembic: %s" % e)
env = []


class Probe(CommandLine):
    def run_cmd(self, config, options):
        env.append(os.path.join(ScriptDirectory.from_config(config).dir, "env.py"))


try:
    Probe(prog="alembic").main(["current"])  # as alembic reads its configuration; nothing runs
except BaseException:
    pass  # a configuration alembic cannot read: alembic says so itself when it runs
names = []
try:
    import ast
    with open(env[0], "rb") as f:
        tree = ast.parse(f.read(), env[0])
    guards = (ast.Try, getattr(ast, "TryStar", ast.Try))

    def visit(node, optional):
        for child in ast.iter_child_nodes(node):
            quiet = optional or isinstance(child, guards) or (
                isinstance(child, ast.If) and "TYPE_CHECKING" in ast.dump(child.test))
            if isinstance(child, ast.Import) and not quiet:
                names.extend(a.name for a in child.names)
            elif isinstance(child, ast.ImportFrom) and not quiet and not child.level and child.module:
                names.append(child.module)
            visit(child, quiet)

    visit(tree, False)
    here = os.path.dirname(os.path.abspath(env[0]))
    sys.path.extend(p for p in (here, os.path.dirname(here)) if p not in sys.path)
except Exception:
    pass  # no env.py, or one Python cannot read: alembic says so itself when it runs
import importlib
missing = []
for name in sorted(set(names), key=names.index):
    try:
        importlib.import_module(name)
    except ImportError as e:
        missing.append("%s (%s)" % (name, e))
    except BaseException:
        pass  # not a missing package: env.py fails the same way in any Python, and says why
if missing:
    answer(False, "env.py imports what it cannot: " + "; ".join(missing))
answer(True, "Python %s, alembic %s" % (sys.version.split()[0], getattr(alembic, "__version__", "?")))
PY
)
py="" py_seen="" py_why="" py_start=$(date +%s)
# py_try CANDIDATE WHERE: takes CANDIDATE (a path, or a name on PATH) when it fits.
py_try() {
  p=$(command -v "$1" 2>/dev/null)
  if [ -z "$p" ]; then
    py_why="$py_why; $1 ($2): not found"
    return 1
  fi
  printf '%s\n' "$py_seen" | grep -Fxq -- "$p" && return 1
  py_seen="$py_seen
$p"
  answer=$("$p" -c "$py_probe" 3>&1 >/dev/null 2>&1 </dev/null)
  rc=$?
  answer=$(printf '%s' "$answer" | tr '\n' ' ')
  if [ "$rc" = 0 ]; then
    py="$p"
    echo "INFO  [schemagate] python: $p ($2): ${answer% }" >&2
    return 0
  fi
  [ -n "$answer" ] || answer="it could not be run (exit $rc)"
  echo "INFO  [schemagate] python: not $p ($2): ${answer% }" >&2
  py_why="$py_why; $p ($2): ${answer% }"
  return 1
}
# The Python the image's alembic runs, when its script names one.
py_of_alembic() {
  a=$(command -v alembic 2>/dev/null) && [ -f "$a" ] || return 1
  first=$(head -n 1 "$a" 2>/dev/null)
  case "$first" in '#!'*) ;; *) return 1 ;; esac
  set -f
  # shellcheck disable=SC2086 # the #! line's words
  set -- ${first#??}
  set +f
  if [ "${1##*/}" = env ]; then
    shift
    while [ $# -gt 0 ]; do case "$1" in -* | *=*) shift ;; *) break ;; esac; done
  fi
  case "${1##*/}" in python*) echo "$1"; return 0 ;; esac
  tr -d "'\"" <"$a" | grep -E '(^|[^[:alnum:]_])exec[[:space:]]' | tr -s ' \t' '\n\n' \
    | grep -E '^([^[:space:]]*/)?python[0-9.]*$' | head -n 1
}
if [ -n "${SCHEMAGATE_PYTHON:-}" ]; then
  py_try "$SCHEMAGATE_PYTHON" "SCHEMAGATE_PYTHON"
else
  py_shim=$(py_of_alembic)
  { [ -n "$py_shim" ] && py_try "$py_shim" "the one $(command -v alembic) runs"; } \
    || py_try python3 "python3 on PATH" || py_try python "python on PATH"
fi
if [ -z "$py" ]; then
  if [ -n "${SCHEMAGATE_PYTHON:-}" ]; then
    msg="SCHEMAGATE_PYTHON (spec.env) names a Python that cannot run alembic for this project: ${py_why#; }. Set it to the Python that has alembic and what env.py imports (the one the image's alembic runs), or remove it to let the Job find one; nothing was run"
  else
    msg="no Python in the image can run alembic and what env.py imports: ${py_why#; }. Set SCHEMAGATE_PYTHON in spec.env to the one that can (the Python the image's alembic runs); nothing was run"
  fi
  echo "ERROR [schemagate] InvalidConfiguration: $msg" >&2
  msg=$(printf '%s' "$msg" | tr '\t\r\n' '   ' | tr -d '"\\\000-\037' | cut -c1-1500)
  case "${SCHEMAGATE_DIRECTION:-upgrade}" in downgrade | plan | check) py_verb=$SCHEMAGATE_DIRECTION ;; *) py_verb=upgrade ;; esac
  printf '{"tool":"alembic","direction":"%s","fromRevision":"","toRevision":"","applied":[],"error":"InvalidConfiguration","message":"%s","durationMs":%s}' \
    "$py_verb" "$msg" "$(( ($(date +%s) - py_start) * 1000 ))" >"$SCHEMAGATE_RESULT_FILE"
  exit 2
fi
export SCHEMAGATE_PYTHON="$py"
# --- schemagate python: end

log="${TMPDIR:-/tmp}/schemagate-alembic.log"
start=$(date +%s)
verb=upgrade
[ "${SCHEMAGATE_DIRECTION:-upgrade}" = downgrade ] && verb=downgrade
mode=""
target="$SCHEMAGATE_TARGET_REVISION"

sg_py=$(cat <<'PY'
import sys
# the working directory last on sys.path, not first (see "schemagate python" above)
if sys.path and sys.path[0] == "":
    sys.path.append(sys.path.pop(0))
import json
import os

# --- schemagate redaction: begin
# Generated by scripts/redaction-copies from redact/src/main/python/redaction.py.in and the rules,
# redact/src/main/resources/dev/schemagate/redact/rules.txt: the same lines in schemagate_alembic.py
# (examples/fastapi-alembic) and in the operator's Alembic wrapper (alembic-run.sh). Tests check the
# copies are what the script makes and run each on the corpus of password shapes and against Java.
import re as _re
import sys as _sys
from urllib.parse import unquote as _unquote

REDACTION_MASK = "*****"
_REDACTION_RULES = r"""
# The shapes a credential takes in text, one regular expression a line, applied in order. Each has
# exactly one capturing group: the secret, which is replaced by the mask; the rest of the match is
# kept. The first comment line above a rule is its name (tests and the benchmark print it).
#
# One source for Java and Python: Redactor compiles these lines with UNIX_LINES, the Python copy
# (the Alembic Job's wrapper and schemagate_alembic.py, generated by scripts/redaction-copies from
# redact/src/main/python/redaction.py.in) with re.ASCII, so that '.', '^', '$', \s, \w, \d and (?i)
# mean the same in both; word starts are (?<!\w), not \b (Java 17's \b counts non-ASCII letters).
# Tested on redact/src/test/resources/password-shapes.txt, and Java against Python on random text.
#
# Linear in the input, and no deep recursion in java.util.regex (which recurses once per repetition
# of a group whose alternatives differ in length), whatever the text:
# - a rule starts at something short and fixed (a key word, '//', '(', a line start), never at a
#   repetition such as [\w.-]* that every position of a long word would start again;
# - what a rule scans after its start ends where another start of the same rule would begin, so no
#   character is scanned from two starts, or the scan always ends in a match (which consumes it);
# - a repetition of a group of alternatives is possessive (*+, ++): Java runs those without
#   recursion. A possessive quantifier is only placed where the greedy one could never give back a
#   character to a match, so Python before 3.11, which has none, drops the '+' and matches alike
#   (Python's engine does not recurse). redact/src/test/resources/hard-inputs.tsv holds the inputs
#   each rule is checked linear on (RedactorTest) and timed on (bench: redaction).
#
# A URL's password (scheme://user:password@host, or //user:password@host when the scheme lost its
# colon), with '@', '/', ':', spaces or percent-escapes in it and of any length (cloud IAM and OAuth
# tokens): up to the last '@' a host follows on the line, before the next URL (another '://' or
# '//user:') or the next key=value of a credential.
(?i)//[^\s:/?#@"'<>]*+:((?:(?!://|//[^\s:/?#@"'<>]*+:|\s[\w.-]*(?:password|passwd|pwd|pass|pw|secret|token)[=:])[^\n])+)@(?=[^\s@/?#"'<>]*(?:[/?#\s"'<>,;)\]]|$))
# SQLAlchemy's bound parameters, whatever they are: data, which may be secret.
\[parameters: ([^\n]*?)\]?(?=\r?\n|$)
# SQL: PASSWORD '...' (CREATE/ALTER ROLE/USER), IDENTIFIED BY '...'; '' and \' inside; cut-off literals.
(?i)(?<!\w)(?:password|identified\s+by)\s+E?'((?:[^'\\\n]|''|\\.)*+)'?
# key="value" (JSON, logfmt, Python's b"..." repr) with escapes, spaces and commas inside.
(?i)(?:(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?[ \t]*[=:]|(?<!\w)(?:pass|pw)(?:["'][ \t]*:|["']?[ \t]*=))[ \t]*b?"((?:[^"\\\n]|\\.)*+)"?
# key=\"value\": JSON inside a JSON string.
(?i)(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key|(?<!\w)pass|(?<!\w)pw)\\["'][ \t]*[=:][ \t]*\\"([^\n]*?)(?=\\"|\n|$)
# key='value' (libpq, Python reprs, b'...' of bytes) with \' and '' inside.
(?i)(?:(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?[ \t]*[=:]|(?<!\w)(?:pass|pw)(?:["'][ \t]*:|["']?[ \t]*=))[ \t]*b?'((?:[^'\\\n]|\\.|'')*+)'?
# key={value} (ODBC's braces, }} inside).
(?i)(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key|(?<!\w)pass|(?<!\w)pw)["']?[ \t]*=[ \t]*\{((?:[^}\r\n]|\}\})*+)\}?
# key=value; (ODBC, ADO.NET): spaces inside, up to the ';' (never across another '=').
(?i)(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key|(?<!\w)pass|(?<!\w)pw)["']?[ \t]*=[ \t]*(?!b["'])([^;=\r\n \t"'\\{][^;=\r\n]*+)(?=;)
# key=value unquoted (libpq, URL queries, PGPASSWORD=, pass=, pw=): up to a space, '&' or a quote.
(?i)(?:(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?[ \t]*[=:]|(?<!\w)(?:pass|pw)(?:["'][ \t]*:|["']?[ \t]*=))[ \t]*(?!["'\\]|b["'])([^\s&"']+)
# A line that is key=value or key: value (an environment dump, .env, YAML): the rest of the line.
(?im)^[ \t]*(?:export[ \t]+|-[ \t]+)?[\w.-]*(?:(?:password|passwd|pwd|[_-]pass|[_-]pw|secret|secret[_-]?key|token|api[_-]?key|access[_-]?key|private[_-]?key)["']?[ \t]*[=:]|(?<!\w)(?:pass|pw)(?:["'][ \t]*:|["']?[ \t]*=))[ \t]*(?!["']|b["'])(\S[^\r\n]*)
# A .pgpass line, host:port:database:user:password ('*' for any, \: and \\ escaped): the password.
(?m)^[ \t]*(?!#|\d+:)(?:[^\s:\\]|\\.)++:(?:\d++|\*):(?:[^\s:\\]|\\.)++:(?:[^\s:\\]|\\.)++:([^\r\n]+)
# PostgreSQL's DETAIL of a unique violation: Key (api_token)=(value).
(?i)\((?=[^()\n]*\)=\([^)\n]*\))[^()\n]*?(?:password|passwd|pwd|[_-]pass|secret|token|api[_-]?key)[^()\n]*\)=\(([^)\n]*)\)
# An Authorization header.
(?i)(?<!\w)authorization["']?[ \t]*[=:][ \t]*["']?(?:(?:bearer|basic|token|digest)[ \t]+)?([^\s"',;]+)
# A command-line option: --password VALUE.
(?i)(?<![\w-])--?(?:password|passwd|pwd)[ \t]+(?!-)("[^"\n]*"|'[^'\n]*'|[^\s"']+)
"""


def _compile_rule(rule, possessive=_sys.version_info >= (3, 11)):
    """A rule as Java compiles it: re.ASCII, as Java's \\s, \\w, \\d and (?i) are. Python before 3.11
    has no possessive quantifiers (*+, ++): they go, which changes no match (rules.txt puts them
    only where the greedy quantifier never gives a character back to a match)."""
    if not possessive:
        rule = _re.sub(r"(?<=[*+?}])\+", "", rule)
    return _re.compile(rule, _re.ASCII)


_RULES = [_compile_rule(r) for r in _REDACTION_RULES.splitlines() if r.strip() and not r.startswith("#")]
_SECRET_NAME = _re.compile(r"(?i).*(password|passwd|[_-]pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)")
_URL_PASSWORD = _re.compile(r"(?i)[a-z][a-z0-9+.\-]*:?//[^\s:/?#@]*:(.+)@[^@]*")


def secrets_in(env):
    """The secrets an environment holds: values of variables named like secrets, URL passwords."""
    found = []
    for name, value in env.items():
        if not value or not value.strip():
            continue
        if _SECRET_NAME.fullmatch(name):
            found.append(value)
        url = _URL_PASSWORD.fullmatch(value.strip())
        if url:
            found += [url.group(1), _unquote(url.group(1))]
    return found


def _secret_pattern(secret):
    """The secret in every encoding: each character raw or percent-encoded (either case), a space
    also as '+', quotes and backslashes also as JSON or SQL escape them."""
    parts = []
    for ch in secret:
        forms = [_re.escape(ch), "".join("%%[%X%x][%X%x]" % (b >> 4, b >> 4, b & 15, b & 15) for b in ch.encode("utf-8"))]
        forms += {" ": [r"\+"], '"': [r'\\"'], "\\": [r"\\\\"], "/": [r"\\/"], "'": ["''", r"\\'"]}.get(ch, [])
        parts.append("(?:" + "|".join(forms) + ")")
    return _re.compile("".join(parts))


def _mask_group(m):
    if m.group(1) is None:
        return m.group(0)
    return m.group(0)[: m.start(1) - m.start(0)] + REDACTION_MASK + m.group(0)[m.end(1) - m.start(0):]


def redact(text, secrets=()):
    """schemagate's redaction: the secrets given, in every encoding, then every credential shape."""
    if not text:
        return text
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = _secret_pattern(secret).sub(REDACTION_MASK, text)
    for rule in _RULES:
        text = rule.sub(_mask_group, text)
    return text
# --- schemagate redaction: end

_EXCEPTION = _re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Failure|Exit|Interrupt)\b|FAILED\b)")
_SECRETS = secrets_in(os.environ)


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


def finish(raw, log_file, failed, schema_file=None):
    try:
        result = json.loads(raw, strict=False)
    except ValueError:
        result = {"tool": "alembic", "message": raw}
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

    def size():
        return len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))

    # at most 4096 bytes (a termination message): the schema's per-table digests go first, then the
    # tail of the applied list
    schema = result.get("schema")
    if size() > 4096 and isinstance(schema, dict) and "tables" in schema:
        del schema["tables"]
        schema["tablesOmitted"] = True
    while size() > 4096 and result.get("applied"):
        result["applied"].pop()
        result["omitted"] = result.get("omitted", 0) + 1
    while size() > 4096 and result.get("message"):
        result["message"] = cut(result["message"], max(3, len(result["message"]) // 2))
    return json.dumps(result, separators=(",", ":"), ensure_ascii=False)


def plan(current, target, revs_file, sql_file, result_file, millis):
    """The plan (Job contract, direction plan): the revisions from the current one to the target
    (alembic history, oldest first) and their offline SQL (alembic upgrade --sql), redacted; the
    hash covers them, the current revision and SCHEMAGATE_PLAN_INPUTS. Writes the result; returns
    the hash."""
    import hashlib
    revs = []
    with open(revs_file, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = _re.match(r"^\s*(\S+) -> (\S+?)(?: \([^)]*\))*, ?(.*)$", line.rstrip("\n"))
            if m and m.group(2) != current:
                revs.append((m.group(2), m.group(3).strip()))
    revs.reverse()
    with open(sql_file, encoding="utf-8", errors="replace") as f:
        sql = redact(f.read(), _SECRETS)
    lines = ["schemagate-plan 1", "inputs " + os.environ.get("SCHEMAGATE_PLAN_INPUTS", ""),
             "target " + target, "current " + current]
    lines += ["pending %s %s" % r for r in revs]
    lines.append("sql " + hashlib.sha256(sql.encode("utf-8")).hexdigest())
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
    result = {"tool": "alembic", "direction": "plan", "fromRevision": current,
              "toRevision": revs[-1][0] if revs else current, "applied": [],
              "plan": {"hash": digest,
                       "pending": [{"revision": r, "description": cut(d, 120)} for r, d in revs],
                       "sqlBytes": len(sql.encode("utf-8")), "sqlTruncated": False, "sql": sql},
              "python": os.environ.get("SCHEMAGATE_PYTHON", ""), "durationMs": int(millis)}

    def size():
        return len(json.dumps(result, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))

    # at most 4096 bytes (a termination message): the SQL is cut first (the log has all of it)
    while size() > 4096 and result["plan"]["sql"]:
        result["plan"]["sqlTruncated"] = True
        text = result["plan"]["sql"]
        result["plan"]["sql"] = text[: min(len(text) - 1, len(text) * 9 // 10)]
    while size() > 4096 and result["plan"]["pending"]:
        result["plan"]["pending"].pop()
        result["plan"]["omitted"] = result["plan"].get("omitted", 0) + 1
    with open(result_file, "w", encoding="utf-8") as f:
        f.write(json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    return digest


# --- schemagate fingerprint: begin
# The schemagate runner's schema-fingerprint.sql (migrations-image/src/main/resources/dev/schemagate/
# runner), verbatim: a test compares the copies, and another that both tools give the same fingerprint.
_FINGERPRINT_SQL = r"""
-- The schema fingerprint's catalog query (the Job contract: drift). The schemagate runner and the
-- operator's Alembic wrapper (alembic-run.sh, a verbatim copy that a test compares) both run it,
-- with search_path set to pg_catalog alone so that every name outside it comes out qualified,
-- whatever the tool's connection had; they hash the canonical texts it returns, in its order.
-- Parameters: the managed schema and the tool's own history table, which is left out.
-- One row per table (relkind r and p): its schema, its name and its canonical text.
WITH params AS (
  SELECT CAST(:schema AS text) AS schema_name, CAST(:history AS text) AS history
),
managed AS (
  SELECT c.oid, n.nspname, c.relname
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  CROSS JOIN params p
  WHERE n.nspname = p.schema_name AND c.relkind IN ('r', 'p') AND c.relname <> p.history
)
SELECT m.nspname, m.relname, concat_ws(E'\n',
  'table ' || m.nspname || '.' || m.relname,
  (SELECT string_agg('column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                       || CASE WHEN a.attnotnull THEN ' not null' ELSE ' null' END
                       || ' default ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-'),
                     E'\n' ORDER BY CAST(a.attname AS text) COLLATE "C")
   FROM pg_attribute a
   LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attrelid = m.oid AND a.attnum > 0 AND NOT a.attisdropped),
  (SELECT string_agg('constraint ' || k.conname || ' ' || pg_get_constraintdef(k.oid),
                     E'\n' ORDER BY CAST(k.conname AS text) COLLATE "C")
   FROM pg_constraint k
   WHERE k.conrelid = m.oid),
  (SELECT string_agg('index ' || i.relname || ' ' || pg_get_indexdef(x.indexrelid),
                     E'\n' ORDER BY CAST(i.relname AS text) COLLATE "C")
   FROM pg_index x
   JOIN pg_class i ON i.oid = x.indexrelid
   WHERE x.indrelid = m.oid)
) AS canonical
FROM managed m
ORDER BY (m.nspname || '.' || m.relname) COLLATE "C"
"""
# --- schemagate fingerprint: end

_HOLDER_SQL = (
    "SELECT a.pid, a.usename, a.application_name, a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
    " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
    " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND l.classid::bigint = :hi AND l.objid::bigint = :lo"
)


def lock_key(schema, table):
    """The migration lock's key, as the runner's and schemagate_alembic's (Java's String.hashCode)."""
    h = 0
    for ch in "%s.%s" % (schema, table):
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    if h >= 1 << 31:
        h -= 1 << 32
    key = (0x5C4E3A6A7E000000 ^ (h & 0xFFFFFFFFFFFFFFFF)) & 0xFFFFFFFFFFFFFFFF
    return key - (1 << 64) if key >= 1 << 63 else key


def fingerprint(connection, schema, history):
    """The schema's fingerprint, as the runner's SchemaFingerprint makes it: the same query, run
    with search_path set to pg_catalog (and set back), and the same hashes of its canonical texts."""
    import hashlib
    from sqlalchemy import text
    path = connection.execute(text("SELECT current_setting('search_path')")).scalar()
    connection.execute(text("SELECT set_config('search_path', 'pg_catalog', false)"))
    try:
        rows = connection.execute(text(_FINGERPRINT_SQL), {"schema": schema, "history": history}).fetchall()
    finally:
        connection.execute(text("SELECT set_config('search_path', :path, false)"), {"path": path})
    tables, whole = {}, hashlib.sha256()
    for namespace, name, canonical in rows:
        tables[namespace + "." + name] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:8]
        whole.update((canonical + "\n\n").encode("utf-8"))
    return {"fingerprint": whole.hexdigest()[:16], "tables": tables}


def schema_pass(mode, out_file, log_file, started):
    """Runs the project's env.py as `alembic current` does (a callback in place of the migrations,
    dont_mutate: nothing is changed, no lock is taken) and reads on its connection the revision and
    the fingerprint of the managed schema: current_schema(), or env.py's version_table_schema; its
    version table is left out. mode "after" (a run succeeded): writes the schema object. mode
    "check": writes the check's result; when a run holds the migration lock of schemagate_alembic
    (before or after the read) or the revision moved during it, the result has no schema and the
    exit code is 11 (MigrationRunning). Returns the exit code."""
    import time
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
        f.write(finish(json.dumps(result), log_file, False))
    return 11 if "running" in found else 0


if sys.argv[1] == "plan":
    sys.stdout.write(plan(*sys.argv[2:8]))
elif sys.argv[1] == "mask":
    for line in sys.stdin.buffer:
        sys.stdout.write(redact(line.decode("utf-8", "replace"), _SECRETS))
        sys.stdout.flush()
elif sys.argv[1] == "schema":
    sys.exit(schema_pass(*sys.argv[2:6]))
else:
    sys.stdout.write(finish(sys.stdin.read(), sys.argv[2], sys.argv[3] == "failed", *sys.argv[4:5]))
PY
)
# mask: stdin to stdout, redacted.
mask() { "$py" -c "$sg_py" mask; }
clean() { tr -d '"\\' | tr '\t\r\n' '   ' | cut -c1-1500; }
report() { # error message from to applied [lockRetries]
  extra=""
  [ -n "$1" ] && extra=",\"error\":\"$1\""
  [ -n "$2" ] && extra="$extra,\"message\":\"$2\""
  [ -n "${6:-}" ] && [ "${6:-0}" != 0 ] && extra="$extra,\"lockRetries\":$6"
  [ -n "${failed:-}" ] && extra="$extra,\"failedRevision\":\"$failed\""
  json=$(printf '{"tool":"alembic","direction":"%s","fromRevision":"%s","toRevision":"%s","applied":[%s]%s,"durationMs":%s}' \
    "$verb" "$3" "$4" "$5" "$extra" "$(( ($(date +%s) - start) * 1000 ))")
  printf '%s' "$json" | "$py" -c "$sg_py" result "$log" "$outcome" "$log.schema" >"$SCHEMAGATE_RESULT_FILE"
}
failed=""
outcome=failed
rm -f "$log.schema" "$log.check"

# 0. The drift check (SCHEMAGATE_DIRECTION=check): the revision and the schema's fingerprint, read
# on the connection of the project's env.py, run as `alembic current` runs it (nothing is changed,
# no lock is taken, any env.py works). This wrapper takes no lock of its own; a run through
# schemagate_alembic holds its migration lock, and a check that finds it held does not wait: exit
# 11, MigrationRunning, no schema.
if [ "${SCHEMAGATE_DIRECTION:-upgrade}" = check ]; then
  verb=check
  { "$py" -c "$sg_py" schema check "$log.check" "$log" "$start" 2>&1; echo $? >"$log.rc"; } | mask >"$log"
  rc=$(cat "$log.rc" 2>/dev/null || echo 1)
  cat "$log"
  if { [ "$rc" = 0 ] || [ "$rc" = 11 ]; } && [ -s "$log.check" ]; then
    cp "$log.check" "$SCHEMAGATE_RESULT_FILE"
    exit "$rc"
  fi
  report "" "" "" "" ""
  exit "$rc"
fi

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

# 2a. The plan (SCHEMAGATE_DIRECTION=plan): the revisions from the current one to the target and
# their offline SQL (alembic upgrade --sql current:target), redacted; nothing is changed. An upgrade
# with an approved plan (SCHEMAGATE_APPROVED_PLAN) makes the plan again first and runs only when it
# is still that plan (exit 10, PlanChanged, otherwise).
if [ "${SCHEMAGATE_DIRECTION:-upgrade}" = plan ] || { [ "$verb" = upgrade ] && [ -n "${SCHEMAGATE_APPROVED_PLAN:-}" ]; }; then
  mode="${SCHEMAGATE_DIRECTION:-upgrade}"
  [ "$mode" = plan ] && verb=plan
  alembic history -r "$from:$target" 2>>"$log" | mask >"$log.revs"
  sqlrange="$target"
  [ -n "$from" ] && sqlrange="$from:$target"
  { alembic upgrade --sql "$sqlrange" 2>>"$log"; echo $? >"$log.sqlrc"; } | mask >"$log.sql"
  if [ "$(cat "$log.sqlrc")" != 0 ]; then
    mask <"$log"
    report InvalidConfiguration "alembic upgrade --sql $sqlrange failed: the revisions must support offline mode (context.is_offline_mode() in env.py)" "$from" "$from" ""
    exit 2
  fi
  hash=$("$py" -c "$sg_py" plan "$from" "$target" "$log.revs" "$log.sql" "$log.plan" "$(( ($(date +%s) - start) * 1000 ))")
  if [ "$mode" = plan ]; then
    cat "$log.sql"
    echo "INFO  [schemagate] plan $hash: $(grep -c . "$log.revs") revision(s) from ${from:-base} to $target; nothing was changed" >&2
    cp "$log.plan" "$SCHEMAGATE_RESULT_FILE"
    exit 0
  fi
  if [ "$hash" != "$SCHEMAGATE_APPROVED_PLAN" ]; then
    msg="the approved plan $SCHEMAGATE_APPROVED_PLAN is no longer the plan: the database or the migrations changed since it was made (the plan now is $hash); nothing was applied. Review the new plan and approve it"
    echo "ERROR [schemagate] PlanChanged: $msg" >&2
    report PlanChanged "$msg" "$from" "$from" ""
    exit 10
  fi
  echo "INFO  [schemagate] the plan $hash is the approved one" >&2
fi

# 2. The migration (the lock, the lock timeouts and the retries are env.py's, see schemagate_alembic.py).
rcfile="$log.rc"
{ alembic "$verb" "$SCHEMAGATE_TARGET_REVISION" 2>&1; echo $? >"$rcfile"; } | mask >"$log"
rc=$(cat "$rcfile" 2>/dev/null || echo 1)
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
  outcome=ok
  # The schema the run left: its fingerprint (drift detection), read as a check reads it, right
  # after the run (not under its lock, which is env.py's).
  "$py" -c "$sg_py" schema after "$log.schema" "$log" "$start" 2>&1 | mask
  [ -s "$log.schema" ] || echo "WARN  [schemagate] could not read the schema's fingerprint: the result has none" >&2
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
  msg="" # the error line, read from the log when the result is written
fi
retries=$(awk -v r="$failed" '/\[alembic\.schemagate\] lock retries / { n = split($0, w, " "); if (w[n - 1] == r) c = w[n] } END { print c + 0 }' "$log")
report "$reason" "$msg" "$from" "$to" "" "$retries"
case "$reason" in
  MigrationLockHeld) exit 6 ;;
  LockTimeout) exit 7 ;;
  InvalidConfiguration) exit 2 ;;
esac
exit "$rc"
