"""schemagate_alembic.job's own logic, without a database: what it reads in Alembic's output and
what it writes as the result. AlembicJobTest (migrations-image) runs the whole kit on a real
PostgreSQL."""
import json
import os

import pytest

from schemagate_alembic import job


def test_an_upgrade_lists_each_revision_once_with_its_lock_retries():
    lines = [
        "INFO  [alembic.runtime.migration] Running upgrade  -> 0001, create app_user",
        "WARN  [alembic.schemagate] LockTimeout waiting; retrying",
        "INFO  [alembic.schemagate] lock retries 0002 2",
        "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, add email",
        "INFO  [alembic.runtime.migration] Running upgrade 0001 -> 0002, add email",
        "INFO  [alembic.runtime.migration] Running upgrade 0002 -> 0003 (head), add display_name",
    ]
    steps, retries = job.applied_steps(lines, "upgrade")
    assert steps == [
        {"revision": "0001", "description": "create app_user"},
        {"revision": "0002", "description": "add email", "lockRetries": 2},
        {"revision": "0003", "description": "add display_name"},
    ]
    assert retries == {"0002": "2"}


def test_a_downgrade_lists_the_revisions_it_left():
    lines = [
        "INFO  [alembic.runtime.migration] Running downgrade 0003 -> 0002, add display_name",
        "INFO  [alembic.runtime.migration] Running downgrade 0002 -> 0001, add email",
    ]
    steps, _ = job.applied_steps(lines, "downgrade")
    assert [s["revision"] for s in steps] == ["0003", "0002"]


def test_the_error_line_is_the_exception_with_its_sql_not_a_frame_or_the_footer():
    lines = [
        "Traceback (most recent call last):",
        '  File "env.py", line 3, in <module>',
        'sqlalchemy.exc.ProgrammingError: relation "nope" does not exist',
        "[SQL: ALTER TABLE nope ADD COLUMN x int]",
        "(Background on this error at: https://sqlalche.me/e/20/f405)",
    ]
    assert job.error_line(lines) == (
        'sqlalchemy.exc.ProgrammingError: relation "nope" does not exist [SQL: ALTER TABLE nope ADD COLUMN x int]')
    assert job.error_line(["something went wrong", "[parameters: {'pw': 'x'}]"]) == "something went wrong"


def test_the_result_is_redacted_and_at_most_4096_bytes(tmp_path, monkeypatch):
    monkeypatch.setattr(job, "_SECRETS", ["env-secret-1"])
    monkeypatch.setenv("SCHEMAGATE_PYTHON", "/opt/venv/bin/python")
    log = tmp_path / "log"
    log.write_text("ValueError: password=abc and env-secret-1\n")
    applied = [{"revision": "%04d" % i, "description": "step %d" % i} for i in range(400)]
    result = json.loads(job.finish({"tool": "alembic", "direction": "upgrade", "applied": applied},
                                   str(log), True))
    assert result["message"] == "ValueError: password=***** and *****"
    assert result["python"] == "/opt/venv/bin/python"
    assert result["omitted"] > 0
    assert len(json.dumps(result, separators=(",", ":")).encode()) <= 4096


def test_a_schema_too_large_for_the_result_keeps_its_fingerprint_and_drops_its_tables(tmp_path):
    schema = tmp_path / "schema"
    schema.write_text(json.dumps({"fingerprint": "0123456789abcdef",
                                  "tables": {"public.t%d" % i: "abcdef01" for i in range(400)}}))
    result = json.loads(job.finish({"tool": "alembic", "applied": []}, str(tmp_path / "log"), False, str(schema)))
    assert result["schema"] == {"fingerprint": "0123456789abcdef", "tablesOmitted": True}


def test_a_plan_hashes_what_it_covers_and_cuts_its_sql_first(monkeypatch):
    monkeypatch.setenv("SCHEMAGATE_PLAN_INPUTS", "image@sha256:1 head")
    history = "0002 -> 0003 (head), add display_name\n0001 -> 0002, add email\n"
    text, digest = job.plan_result("0001", "head", history, "ALTER TABLE a;\n" * 1000, 12)
    result = json.loads(text)
    assert [p["revision"] for p in result["plan"]["pending"]] == ["0002", "0003"]
    assert result["toRevision"] == "0003"
    assert result["plan"]["hash"] == digest
    assert result["plan"]["sqlTruncated"] is True
    assert len(text.encode()) <= 4096
    again, same = job.plan_result("0001", "head", history, "ALTER TABLE a;\n" * 1000, 99)
    assert same == digest
    _, other = job.plan_result("0001", "head", history, "ALTER TABLE b;\n", 12)
    assert other != digest


def test_the_first_words_skip_alembic_log_lines():
    out = "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.\n0003 (head)\n\n"
    assert job._first_words(out, r"^(INFO|WARN)") == ["0003"]


def test_the_fingerprint_query_is_the_runners_file_as_it_is(root):
    runner = os.path.join(root, "migrations-image/src/main/resources/dev/schemagate/runner/schema-fingerprint.sql")
    with open(runner, encoding="utf-8") as f:
        assert job.fingerprint_sql() == f.read()


def test_the_redaction_holds_every_rule_of_rules_txt(root):
    from schemagate_alembic import redaction
    with open(os.path.join(root, "redact/src/main/resources/dev/schemagate/redact/rules.txt"), encoding="utf-8") as f:
        rules = [r for r in f.read().splitlines() if r.strip() and not r.startswith("#")]
    assert len(redaction._RULES) == len(rules)
    for rule in rules:
        assert rule in redaction._REDACTION_RULES.splitlines()
    assert redaction.redact("postgresql://app:s3cr3t@db/orders") == "postgresql://app:*****@db/orders"


@pytest.mark.parametrize("signum, code", [(15, 143), (2, 130)])
def test_a_child_ended_by_a_signal_exits_as_a_shell_reports_it(signum, code, tmp_path, monkeypatch):
    monkeypatch.setenv("SCHEMAGATE_RESULT_FILE", str(tmp_path / "result"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    j = job.Job(dict(os.environ))
    rc = j.streamed(["sh", "-c", "kill -%d $$" % signum], False)
    assert rc == code


def test_the_image_alembic_finds_the_kit_last_on_its_path(tmp_path, monkeypatch):
    monkeypatch.setenv("SCHEMAGATE_RESULT_FILE", str(tmp_path / "result"))
    monkeypatch.setenv("PYTHONPATH", "/app")
    j = job.Job(dict(os.environ))
    assert j.child_env["PYTHONPATH"] == "/app" + os.pathsep + job.KIT


class _Script:
    def __init__(self, revision, kind=None):
        self.revision = revision
        self.module = type("module", (), {} if kind is None else {"schemagate_kind": kind})


def test_a_revision_is_expand_unless_its_module_says_contract():
    assert job.kind_of(_Script("0001")) == "expand"
    assert job.kind_of(_Script("0002", "contract")) == "contract"
    with pytest.raises(ValueError, match="revision 0003: schemagate_kind is 'drop'"):
        job.kind_of(_Script("0003", "drop"))


def test_held_revisions_keep_their_kinds_when_the_result_is_too_large(tmp_path):
    held = [{"revision": "%04d" % i, "description": "x" * 100, "kind": "contract"} for i in range(30)]
    result = json.loads(job.finish({"tool": "alembic", "applied": [], "held": held}, str(tmp_path / "log"), False))
    assert [h["revision"] for h in result["held"]] == ["%04d" % i for i in range(30)]
    assert all(h == {"revision": h["revision"], "kind": "contract"} for h in result["held"])
