"""Can this Python run the project's alembic? (schemagate's Alembic Job, bin/schemagate-alembic)

Run from the project's folder by each candidate Python; answers on file descriptor 3 with one line,
and exits 0 when it can: alembic imports, and so does every module the project's env.py imports (a
module env.py imports inside a try, or under ``if TYPE_CHECKING``, is not required). Nothing of what
those imports print is kept. The folder of this file comes first on sys.path (it holds nothing
named alembic); the project's folder comes last, so a folder of the project named alembic/ never
shadows the installed package, yet the project's modules import as under ``python -m alembic``.
"""
import os
import sys

if os.getcwd() not in sys.path:
    sys.path.append(os.getcwd())

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
