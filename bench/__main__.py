"""`python -m bench <name> [options]` runs the benchmark module `bench.<name>` (e.g. `chat`)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from types import ModuleType

PACKAGE_DIR = [str(Path(__file__).parent)]


def _module(name: str) -> ModuleType | None:
    """`bench.<name>` if it is a runnable benchmark (it has a `main()`)."""
    if name.startswith("_") or name not in {m.name for m in pkgutil.iter_modules(PACKAGE_DIR)}:
        return None
    module = importlib.import_module(f"bench.{name}")
    return module if callable(getattr(module, "main", None)) else None


def main() -> int:
    module = _module(sys.argv[1]) if len(sys.argv) > 1 else None
    if module is None:
        names = [m.name for m in pkgutil.iter_modules(PACKAGE_DIR) if _module(m.name) is not None]
        print(f"usage: python -m bench {{{','.join(names)}}} [options]", file=sys.stderr)
        return 2
    sys.argv = [f"python -m bench {sys.argv[1]}", *sys.argv[2:]]
    result = module.main()
    return result if isinstance(result, int) else 0


if __name__ == "__main__":
    raise SystemExit(main())
