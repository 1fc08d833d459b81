"""booksync.lazy_packages: a re-exporting package's names load from their submodules on first use, and are the same
objects a normal import gives; anything else is imported as usual."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from booksync.lazy_packages import POWERTOOLS_RE_EXPORTS, lazy_package

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str) -> str:
    env = dict(os.environ, PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'layers' / 'common'}")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return out.stdout.strip().splitlines()[-1]


_NAMES = """\
import importlib, json, sys
{setup}
package = importlib.import_module({name!r})
lazy = {name!r} in sys.modules and "AppSyncResolver" not in vars(package) and "ALBEvent" not in vars(package)
names = {{n: getattr(package, n).__module__ + "." + getattr(package, n).__qualname__ for n in package.__all__}}
print(json.dumps({{"lazy": lazy, "names": names}}))
"""


@pytest.mark.parametrize("name", POWERTOOLS_RE_EXPORTS)
def test_powertools_package_exposes_the_same_names_lazily_as_its_init_does(name: str) -> None:
    eager = json.loads(_python(_NAMES.format(setup="", name=name)))
    lazy = json.loads(_python(_NAMES.format(setup="import booksync", name=name)))
    assert lazy["lazy"], f"{name} was imported eagerly after `import booksync`"
    assert lazy["names"] == eager["names"]
    assert len(eager["names"]) > 5


def test_api_resolver_import_leaves_appsync_asyncio_and_other_events_unloaded() -> None:
    code = (
        "import sys, json\n"
        "import booksync\n"
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response\n"
        "from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver as Direct\n"
        "assert APIGatewayHttpResolver is Direct\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    loaded = set(json.loads(_python(code)))
    unwanted = {
        "asyncio",
        "aws_lambda_powertools.event_handler.appsync",
        "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
    }
    assert unwanted & loaded == set()
    assert "aws_lambda_powertools.utilities.data_classes.api_gateway_proxy_event" in loaded


@pytest.fixture
def packages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m.split(".")[0] in {"reexports", "busy"}]:
        del sys.modules[module]
    importlib.invalidate_caches()


def _write(root: Path, files: dict[str, str]) -> None:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_names_load_from_their_own_submodule_on_first_use(packages: Path) -> None:
    _write(
        packages,
        {
            "reexports/__init__.py": '"""doc"""\nfrom .light import Light\nfrom reexports.heavy import Heavy as H\n'
            '__all__ = ["Light", "H"]\n',
            "reexports/light.py": "class Light: ...\n",
            "reexports/heavy.py": "class Heavy: ...\n",
            "reexports/other.py": "VALUE = 1\n",
        },
    )
    importlib.invalidate_caches()
    assert lazy_package("reexports") is True
    import reexports

    assert "reexports.light" not in sys.modules and "reexports.heavy" not in sys.modules
    from reexports import Light

    assert Light.__module__ == "reexports.light"
    assert "reexports.heavy" not in sys.modules  # only the submodule that defines the name
    assert reexports.H.__name__ == "Heavy"
    from reexports import other  # a submodule, not a re-export: imported as usual

    assert other.VALUE == 1
    assert {"Light", "H"} <= set(dir(reexports))
    assert reexports.__all__ == ["Light", "H"]
    with pytest.raises(AttributeError, match="has no attribute 'Missing'"):
        _ = reexports.Missing  # type: ignore[attr-defined]
    with pytest.raises(ImportError):
        from reexports import Missing  # type: ignore[attr-defined]  # noqa: F401


def test_an_init_that_does_more_than_re_export_is_imported_as_usual(packages: Path) -> None:
    _write(
        packages,
        {
            "busy/__init__.py": "from .part import Part\nREGISTRY = {'part': Part}\n",
            "busy/part.py": "class Part: ...\n",
        },
    )
    importlib.invalidate_caches()
    assert lazy_package("busy") is False
    assert "busy" not in sys.modules
    import busy

    assert busy.REGISTRY["part"] is busy.Part


def test_an_imported_package_is_left_alone() -> None:
    assert "json" in sys.modules
    assert lazy_package("json") is False
    assert lazy_package("no_such_package_anywhere") is False
