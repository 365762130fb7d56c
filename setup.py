"""Optional compiled engine: `LOCALSPOT_COMPILE=1 pip install .` builds `domain/` with mypyc.

Everything else about the package is in pyproject.toml. Without the variable the package is
pure Python (the default, and what an editable install for development wants: an edited module
takes effect without a rebuild). With it, the engine's modules are compiled to C extensions by
mypyc from the same, unchanged sources, which makes `Engine.apply` about 5 times as fast
(bench/engine.py); behaviour is the same and the test suite runs against either build.

Only `__init__.py` stays interpreted (it checks that compiled modules are not older than their
sources). Compiled classes keep erased annotations and make instances only through
`__init__`, so the frozen dataclasses of `commands.py` and `symbols.py` pickle by constructor
(`__reduce__`, domain/pickling.py) and the journal codec reads the commands' field types from
their source (storage/codec.py).
"""

import os
from pathlib import Path

from setuptools import setup

INTERPRETED = {"__init__.py"}


def compiled_modules() -> list[str]:
    domain = Path("src/localspot/domain")
    return sorted(str(p) for p in domain.glob("*.py") if p.name not in INTERPRETED)


BUILD_REQUIRES = ["mypy>=1.10"]

if os.environ.get("LOCALSPOT_COMPILE") != "1":
    setup()
else:
    try:
        from mypyc.build import mypycify
    except ImportError:  # the build front end first asks what the build needs: mypy
        setup(setup_requires=BUILD_REQUIRES)
    else:
        modules = mypycify(compiled_modules(), opt_level="3")
        setup(ext_modules=modules, setup_requires=BUILD_REQUIRES)
