"""The kit as scripts/alembic-kit builds it (the redaction made from rules.txt, the runner's
fingerprint query put beside it), on the path of these tests: what the init container copies into
an Alembic Job's pod."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KIT = os.path.join(ROOT, "alembic-kit", "target", "pytest-kit")

subprocess.run(["bash", os.path.join(ROOT, "scripts", "alembic-kit"), KIT], check=True)
sys.path.insert(0, os.path.join(KIT, "python"))


@pytest.fixture
def kit():
    return KIT


@pytest.fixture
def root():
    return ROOT
