"""Runs schemagate's redaction in Python from a file (between its "schemagate redaction"
markers) on the corpus of password shapes, as RedactorTest runs the Java one: twice, with the
rules compiled as this Python compiles them and as a Python before 3.11 does (without possessive
quantifiers).

python3 run_corpus.py FILE CORPUS
"""
import sys

source, corpus_file = sys.argv[1], sys.argv[2]
text = open(source, encoding="utf-8").read()
begin, end = "# --- schemagate redaction: begin", "# --- schemagate redaction: end"
scope = {}
exec(text[text.index(begin):text.index(end)], scope)
redact, pattern = scope["redact"], scope["_secret_pattern"]
rules = [r for r in scope["_REDACTION_RULES"].splitlines() if r.strip() and not r.startswith("#")]
compilations = [("", scope["_RULES"]), (" without possessive quantifiers", [scope["_compile_rule"](r, False) for r in rules])]

cases, case = [], None
for line in open(corpus_file, encoding="utf-8").read().splitlines() + ["== end"]:
    if line.startswith("== "):
        if case:
            cases.append(case)
        name = line[3:].strip()
        case = {"name": name, "known": name.endswith(" [known]"), "secrets": [], "in": [], "out": []}
    elif line.startswith("secret: "):
        case["secrets"].append(line[8:])
    elif line.startswith("< "):
        case["in"].append(line[2:])
    elif line.startswith("> "):
        case["out"].append(line[2:])

passed = failed = 0
for compiled_as, compiled in compilations:
    scope["_RULES"] = compiled
    for case in cases:
        given, expected = "\n".join(case["in"]), "\n".join(case["out"])
        modes = [("known", case["secrets"])] + ([] if case["known"] else [("shapes", [])])
        for mode, secrets in modes:
            out = redact(given, secrets)
            problems = []
            if out != expected:
                problems.append("got %r, expected %r" % (out, expected))
            problems += ["%r survived" % s for s in case["secrets"] if pattern(s).search(out)]
            if redact(expected, secrets) != expected:
                problems.append("not idempotent")
            if problems:
                failed += 1
                print("FAIL %s (%s%s): %s" % (case["name"], mode, compiled_as, "; ".join(problems)))
            else:
                passed += 1
print("%d cases, %d passed, %d failed" % (len(cases), passed, failed))
sys.exit(1 if failed else 0)
