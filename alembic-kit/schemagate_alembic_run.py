"""schemagate's Alembic Job: run by bin/schemagate-alembic with the Python it chose.

This file's folder (the kit's) comes first on sys.path, and holds nothing but schemagate's; the
project's folder is added last by schemagate_alembic.job, when a pass needs env.py's imports.
"""
import sys

from schemagate_alembic.job import main

sys.exit(main(sys.argv[1:]))
