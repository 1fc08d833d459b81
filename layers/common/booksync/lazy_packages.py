"""Import a package's public names from their submodules on first use instead of all of them at import.

Powertools' ``aws_lambda_powertools.event_handler`` package imports every resolver it has (AppSync, which loads
asyncio and ssl; Bedrock; VPC Lattice; ...) and ``aws_lambda_powertools.utilities.data_classes`` imports every event
class (CodePipeline, which loads zipfile and tempfile; ...) whenever any of their submodules is imported. A function
that uses the HTTP API resolver pays ~25 ms of its cold start for the rest (issue 9: init ≤ 1.3x ``import boto3``).

:func:`lazy_package` registers such a package without running its ``__init__``: the names ``__init__`` would
re-export from its submodules resolve through a module ``__getattr__`` (PEP 562), importing only the submodule that
defines the name asked for, and ``import package.submodule`` works as before. It applies only where ``__init__`` is
made of nothing but a docstring, ``from … import …`` statements and ``__all__``, so the two forms expose the
same names (``tests/unit/test_lazy_packages.py`` checks that they resolve to the same objects); a package whose
``__init__`` does anything else, or that is already imported, is left alone and imports as usual.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys

# Powertools packages whose __init__ only re-exports from submodules; see the module docstring.
POWERTOOLS_RE_EXPORTS = (
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
)


def _re_exports(package: str, source: bytes) -> dict[str, tuple[str, str]] | None:
    """``{name: (module, name there)}`` for a package ``__init__`` that only re-exports; None when it does more."""
    exports: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.util.resolve_name("." * node.level + node.module, package)
            for alias in node.names:
                if alias.name == "*":
                    return None
                exports[alias.asname or alias.name] = (module, alias.name)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # docstring
        elif isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["__all__"]:
            continue
        else:
            return None
    return exports


def lazy_package(name: str) -> bool:
    """Register package ``name`` so its re-exported names load on first use; True when it did."""
    if name in sys.modules:
        return False
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or spec.submodule_search_locations is None or spec.loader is None:
        return False
    get_data = getattr(spec.loader, "get_data", None)
    if get_data is None:
        return False
    exports = _re_exports(name, get_data(spec.origin))
    if exports is None:
        return False
    module = importlib.util.module_from_spec(spec)  # __path__, __file__, __spec__, __loader__ as an import sets
    module.__all__ = list(exports)  # type: ignore[attr-defined]

    def __getattr__(attr: str) -> object:
        try:
            submodule, original = exports[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None
        value = getattr(importlib.import_module(submodule), original)
        setattr(module, attr, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(module.__dict__) | set(exports))

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__dir__ = __dir__  # type: ignore[method-assign]
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return True


def slim_powertools() -> None:
    """Make Powertools' re-exporting packages lazy; called once when ``booksync`` is imported."""
    for name in POWERTOOLS_RE_EXPORTS:
        try:
            lazy_package(name)
        except (ImportError, SyntaxError, OSError):  # pragma: no cover - a Powertools without the package: import as is
            continue
