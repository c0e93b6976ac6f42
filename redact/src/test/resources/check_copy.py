"""Checks on schemagate's redaction in Python (the lines of a file between its "schemagate
redaction" markers: the kit's schemagate_alembic/redaction.py), for PythonRedactionTest.

python3 check_copy.py FILE redact [--without-possessive] < INPUTS > OUTPUTS
    redacts (shapes only) each line of INPUTS, a text as the hex of its UTF-8 bytes, and writes
    each result the same way, for the test to compare with what Java gives;
python3 check_copy.py FILE linear HARD_INPUTS [--without-possessive]
    times every rule on every input of HARD_INPUTS at 4 KB and 16 KB and prints the ones where
    16 KB took more than 8 times as long as 4 KB plus 50 ms (the shortest of a few runs each;
    or 4 KB more than 2 s), then a count;
    it stops at the third such input.
"""
import sys
import time

source, command = sys.argv[1], sys.argv[2]
text = open(source, encoding="utf-8").read()
begin, end = "# --- schemagate redaction: begin", "# --- schemagate redaction: end"
scope = {}
exec(text[text.index(begin):text.index(end)], scope)
if "--without-possessive" in sys.argv:
    rules = [r for r in scope["_REDACTION_RULES"].splitlines() if r.strip() and not r.startswith("#")]
    scope["_RULES"] = [scope["_compile_rule"](r, False) for r in rules]
redact, compiled, mask = scope["redact"], scope["_RULES"], scope["_mask_group"]

if command == "redact":
    for line in sys.stdin:
        given = bytes.fromhex(line.strip()).decode("utf-8")
        sys.stdout.write(redact(given).encode("utf-8").hex() + "\n")
    sys.exit(0)


def unescape(s):
    out, i = [], 0
    while i < len(s):
        if s[i] == "\\" and i + 1 < len(s):
            out.append({"n": "\n", "r": "\r", "t": "\t", "\\": "\\"}[s[i + 1]])
            i += 2
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def build(prefix, unit, suffix, size):
    body = prefix
    while len(body) < size - len(suffix):
        body += unit * max(1, (size - len(body)) // len(unit))
    return body[:max(len(prefix), size - len(suffix))] + suffix


def seconds(rule, given, tries=3):
    """The shortest of a few runs (the machine is shared): one only when it takes over a second."""
    best = None
    for _ in range(tries):
        start = time.perf_counter()
        rule.sub(mask, given)
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
        if took > 1:
            break
    return best


shapes = []
for line in open(sys.argv[3], encoding="utf-8").read().splitlines():
    if line.strip() and not line.startswith("#"):
        name, prefix, unit, suffix = line.split("\t")
        shapes.append((name, unescape(prefix), unescape(unit), unescape(suffix)))
slow = 0
for index, rule in enumerate(compiled):
    for name, prefix, unit, suffix in shapes:
        if slow >= 3:
            break
        small = seconds(rule, build(prefix, unit, suffix, 4096))
        if small > 2:
            slow += 1
            print("NOT LINEAR rule %d on '%s': %.3f s on 4 KB" % (index, name, small))
            continue
        large = seconds(rule, build(prefix, unit, suffix, 16384))
        if large > 8 * small + 0.05:
            # measured again before it counts: a pause of the machine is not the rule
            small = min(small, seconds(rule, build(prefix, unit, suffix, 4096), 5))
            large = min(large, seconds(rule, build(prefix, unit, suffix, 16384), 5))
        if large > 8 * small + 0.05:
            slow += 1
            print("NOT LINEAR rule %d on '%s': %.4f s on 4 KB, %.4f s on 16 KB" % (index, name, small, large))
print("%d rules, %d inputs, %d not linear" % (len(compiled), len(shapes), slow))
sys.exit(1 if slow else 0)
