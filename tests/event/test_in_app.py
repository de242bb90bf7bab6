"""What is the app's code: never the SDK, a virtualenv, a console-script launcher; stacks
whose first ten frames show the app's own frames; types as Python's traceback names them."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, List

from helpers import KEY, assert_valid, run_script

WORKTREE = Path(__file__).resolve().parents[2]


def _run(argv: List[str], cwd: Path, ingest_url: str) -> "subprocess.CompletedProcess[str]":
    """Run ``argv`` in ``cwd`` with the key and ``ingest_url`` in its environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXEL_")}
    env.update(PIXEL_PROJECT_KEY=KEY, PIXEL_INGEST_URL=ingest_url)
    return subprocess.run(argv, cwd=str(cwd), env=env, capture_output=True, text=True, timeout=60)


def test_send_test_frames_are_never_app_code(tmp_path: Path, collector: Any) -> None:
    for cwd in (tmp_path, WORKTREE):  # the SDK outside the project root, and inside it
        result = _run([sys.executable, "-m", "ez_pixel", "send-test"], cwd, collector.ingest_url)
        assert result.returncode == 0, result.stderr
    for event in collector.wait_for(2):
        sdk = [f for f in event["stack"] if "ez_pixel" in f["file"]]
        assert sdk and not any(f["in_app"] for f in sdk), event["stack"]
        assert event["code_context"] is None


def test_launchers_and_project_venv_are_not_app_code(tmp_path: Path, collector: Any) -> None:
    venv = tmp_path / ".venv"
    site = venv / "lib" / "python3.12" / "site-packages" / "vendored"
    site.mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (site / "__init__.py").write_text("def call(fn):\n    return fn()\n")
    (venv / "bin").mkdir()
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "main.py").write_text(
        textwrap.dedent(
            """
            import ez_pixel, vendored

            def boom():
                return 1 / 0

            def main():
                ez_pixel.init_pixel()
                vendored.call(boom)  # uncaught: the launcher's frame is in the traceback
            """
        )
    )
    launcher = venv / "bin" / "shop-run"  # what pip writes for a console script
    launcher.write_text(
        f"import sys\nsys.path[:0] = [{str(tmp_path)!r}, {str(site.parent)!r}]\n"
        "from shop.main import main\nif __name__ == '__main__':\n    sys.exit(main())\n"
    )
    result = _run([sys.executable, str(launcher)], tmp_path, collector.ingest_url)
    assert result.returncode == 1, result.stderr
    (event,) = collector.wait_for(1)
    assert_valid(event)
    frames = [(f["file"], f["in_app"]) for f in event["stack"]]
    assert frames == [
        ("shop/main.py", True),
        ("vendored/__init__.py", False),
        ("shop/main.py", True),
        (".venv/bin/shop-run", False),
    ]


def test_first_ten_frames_show_the_app_under_deep_library_stacks(
    tmp_path: Path, collector: Any
) -> None:
    site = tmp_path / "libs" / "site-packages"
    for name in ("framework", "driver"):
        (site / name).mkdir(parents=True)
    # a framework calling the app through 15 frames, the app calling a driver 20 frames deep
    (site / "framework" / "__init__.py").write_text(
        "def dispatch(view, depth=15):\n"
        "    return view() if depth == 0 else dispatch(view, depth - 1)\n"
    )
    (site / "driver" / "__init__.py").write_text(
        "def query(sql, depth=20):\n"
        "    if depth == 0:\n"
        "        raise RuntimeError('driver failed: ' + sql)\n"
        "    return query(sql, depth - 1)\n"
    )
    code = f"""
        import sys; sys.path.insert(0, {str(site)!r})
        import logging, ez_pixel, framework, driver
        ez_pixel.init_pixel()

        def load_orders():
            return driver.query("select 1")

        def view():
            return load_orders()

        try:
            framework.dispatch(view)
        except RuntimeError:
            logging.getLogger("app").exception("view failed")
    """
    result = run_script(tmp_path, code, ingest_url=collector.ingest_url)
    assert result.returncode == 0, result.stderr
    (event,) = collector.wait_for(1)
    assert_valid(event)
    first_ten = [(f["fn"], f["file"], f["in_app"]) for f in event["stack"][:10]]
    assert (
        first_ten[:8]
        == [
            ("query", "driver/__init__.py", False),  # where it was raised
            ("<20 library frames>", "driver", False),
            ("load_orders", "app.py", True),
            ("view", "app.py", True),
            ("dispatch", "framework/__init__.py", False),
            ("<15 library frames>", "framework", False),
            ("<module>", "app.py", True),
            # nothing else: 39 frames became 7
        ][:8]
    )
    assert len(event["stack"]) == 7
    assert event["type"] == "RuntimeError"  # builtins stay bare


def test_types_are_named_as_the_traceback_prints_them(tmp_path: Path, collector: Any) -> None:
    (tmp_path / "shop").mkdir()
    (tmp_path / "shop" / "__init__.py").write_text("")
    (tmp_path / "shop" / "errors.py").write_text(
        "class PaymentError(Exception):\n    class Declined(Exception):\n        pass\n"
    )
    code = """
        import logging, sqlite3, ez_pixel
        from shop.errors import PaymentError
        ez_pixel.init_pixel()
        log = logging.getLogger("app")

        class LocalError(Exception):
            pass

        for exc in (sqlite3.connect(":memory:").execute, PaymentError, PaymentError.Declined,
                    LocalError, KeyError):
            try:
                if exc is KeyError or isinstance(exc, type):
                    raise exc("x")
                exc("select * from missing")
            except Exception:
                log.exception("failed")
    """
    result = run_script(tmp_path, code, ingest_url=collector.ingest_url)
    assert result.returncode == 0, result.stderr
    types = [event["type"] for event in collector.wait_for(5)]
    assert types == [
        "sqlite3.OperationalError",
        "shop.errors.PaymentError",
        "shop.errors.PaymentError.Declined",
        "LocalError",  # __main__ is bare, as the traceback prints it
        "KeyError",
    ]
