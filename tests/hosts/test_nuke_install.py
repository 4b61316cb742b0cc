"""The Nuke installer against temporary home and studio folders, with and without init.py and
menu.py of the user's own: what it writes, that the installed copy starts in (fake) Nuke on its
own, that pip runs with the chosen interpreter into that interpreter's own folder, which then
imports the packages and records its ABI; that a Nuke without a matching folder gets a message,
not an ImportError; and that uninstall leaves every byte as it was."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from install_support import snapshot

from infusion.host_plugins import plugin_install
from infusion.host_plugins.nuke import install, startup

FAKE_NUKE = Path(__file__).parents[1] / "fake_nuke"
STARTUP = """
import json, sys
from pathlib import Path
import fake_host, nuke
fake_host.start_nuke(Path(sys.argv[1]))
import infusion.host_plugins.nuke.node as node_module, infusion.protocol.client as client
node = nuke.menu("Nodes").findItem("Infusion").findItem("Infusion")()
print(json.dumps({"modules": [node_module.__file__, client.__file__], "name": node.name(), "knobs": sorted(node.knobs()),
                  "on_load": [c.__name__ for c, a, k in nuke._state.on_script_load], "path": sys.path[:2]}))
"""
STARTUP_WITHOUT_PACKAGES = """
import json, sys
from pathlib import Path
import fake_host, nuke
fake_host.start_nuke(Path(sys.argv[1]))
nuke.menu("Nodes").findItem("Infusion").findItem("Infusion")()
print(json.dumps({"messages": nuke._state.messages, "zmq": "zmq" in sys.modules, "on_load": len(nuke._state.on_script_load)}))
"""
RUNNING = startup.interpreter_abi()


def nuke_python(folder: Path, exit_code: int = 0, broken_zmq: bool = False) -> Path:
    """A stand-in for Nuke's interpreter: ``-c`` runs for real (this Python: its version, its
    import of the packages); pip records its arguments (argv.json) and leaves a mark in --target,
    or fails with ``exit_code``, or leaves a pyzmq that does not import (``broken_zmq``)."""
    script = folder / "nuke_python"
    script.write_text(f"#!{sys.executable}\nimport json, os, pathlib, sys\n"
                      "if sys.argv[1] == '-c':\n    os.execv(sys.executable, [sys.executable, *sys.argv[1:]])\n"
                      f"pathlib.Path({str(folder / 'argv.json')!r}).write_text(json.dumps(sys.argv[1:]))\n"
                      "target = pathlib.Path(sys.argv[sys.argv.index('--target') + 1])\n"
                      "(target / 'fake-pip').write_text('')\n"
                      f"if {broken_zmq}:\n    (target / 'zmq').mkdir(); (target / 'zmq' / '__init__.py').write_text('raise ImportError(\"wrong ABI\")')\n"
                      f"print('pip says no') if {exit_code} else None\nsys.exit({exit_code})\n")
    script.chmod(0o755)
    return script


def start(target: Path, script: str = STARTUP) -> dict:
    """Nuke starting: ~/.nuke/init.py, then the plugin's init.py and menu.py; only the installed copy
    of infusion is importable (no site processing: the repository's editable install is not seen)."""
    pythonpath = os.pathsep.join([str(FAKE_NUKE), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    started = subprocess.run([sys.executable, "-S", "-c", script, str(target)], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, PYTHONPATH=pythonpath, OMP_NUM_THREADS="1"))
    assert started.returncode == 0, started.stderr
    return json.loads(started.stdout)


def test_install_into_a_fresh_home_starts_in_nuke_and_uninstalls(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    python = nuke_python(tmp_path)
    env = dict(os.environ, HOME=str(home), USERPROFILE=str(home))
    command = [sys.executable, "-m", "infusion.host_plugins.nuke.install", "--python", str(python), "--wheels", str(tmp_path / "wheels")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    target, plugin = home / ".nuke", home / ".nuke" / install.PLUGIN
    site = plugin / f"site-packages-{RUNNING['tag']}"  # this Python's own folder
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        "-m", "pip", "install", "--target", str(plugin / f".{site.name}.partial"), "--upgrade", "--disable-pip-version-check",
        "--no-index", "--find-links", str(tmp_path / "wheels"), "pyzmq>=25", "msgpack>=1.0"]
    assert (site / "fake-pip").exists() and not (plugin / f".{site.name}.partial").exists()
    record = json.loads((site / startup.ABI_RECORD).read_text())  # the interpreter imported them from there
    assert {key: record[key] for key in RUNNING} == RUNNING and {"zmq", "msgpack", "python"} <= set(record)
    assert sorted(p.name for p in target.iterdir()) == ["infusion_plugin", "init.py"]
    assert (target / "init.py").read_text() == f"{install.BEGIN}import nuke\nnuke.pluginAddPath({str(plugin)!r})\n{install.END}"
    tree = plugin / "infusion"
    assert {"protocol/client.py", "host_plugins/__init__.py", "host_plugins/common/follow.py", "host_plugins/nuke/node.py",
            "host_plugins/nuke/startup.py"} <= {str(p.relative_to(tree)) for p in tree.rglob("*.py")}
    assert not (tree / "engine").exists() and not (tree / "host_plugins" / "nuke" / "install.py").exists()

    report = start(target)
    assert all(m.startswith(str(tree)) for m in report["modules"]) and report["path"] == [str(site), str(plugin)]
    assert report["name"] == "Infusion1" and {"inpaint", "cancel", "reattach", "send_to_farm"} <= set(report["knobs"])
    assert report["on_load"] == ["reattach_all"]

    done = subprocess.run(command + ["--uninstall"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "removed" in done.stdout
    assert not target.exists()  # install made ~/.nuke, uninstall removed it: nothing else was in it


def test_one_folder_per_interpreter_and_a_message_for_a_nuke_without_one(tmp_path: Path) -> None:
    target = tmp_path / "nuke_home"
    python = str(nuke_python(tmp_path))
    plugin = install.install(target, [python])
    install.install(target, [python], python_version="3.8")  # another Nuke's wheels, fetched by this pip: kept beside
    assert startup.installed_tags(str(plugin)) == sorted([RUNNING["tag"], "cp38"])
    assert not (plugin / "site-packages-cp38" / startup.ABI_RECORD).exists()  # not Nuke's interpreter: nothing checked
    assert startup.site_problem(str(plugin), RUNNING) is None
    problem = startup.site_problem(str(plugin), dict(RUNNING, tag="cp38"))
    assert problem is not None and "were not checked with this Nuke's Python" in problem and "--python" in problem
    problem = startup.site_problem(str(plugin), dict(RUNNING, tag="cp312"))
    assert problem is not None and "Python cp312" in problem and "cp38" in problem

    shutil.rmtree(plugin / f"site-packages-{RUNNING['tag']}")  # this Nuke has no folder: a message, no ImportError
    report = start(target, STARTUP_WITHOUT_PACKAGES)
    assert len(report["messages"]) == 1 and f"this Nuke runs Python {RUNNING['tag']}" in report["messages"][0]
    assert not report["zmq"] and report["on_load"] == 0


def test_a_package_that_does_not_import_in_nukes_python_fails_the_install(tmp_path: Path) -> None:
    target = tmp_path / "nuke_home"
    with pytest.raises(install.InstallError, match="(?s)importing pyzmq and msgpack with .*wrong ABI"):
        install.install(target, [str(nuke_python(tmp_path, broken_zmq=True))])
    assert not target.exists()


def test_nukes_interpreters_are_found_or_required(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("Nuke15.1v5/python3", "Nuke15.1v5/python3-config", "Nuke16.0v8/python3.11", "Nuke16.0v8/libpython3.11.so"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("")
    assert install.find_nuke_pythons([str(tmp_path / "Nuke*" / "python3*"), str(tmp_path / "Nuke*" / "lib*")]) == [
        str(tmp_path / "Nuke15.1v5" / "python3"), str(tmp_path / "Nuke16.0v8" / "python3.11")]
    monkeypatch.setitem(install.NUKE_PYTHONS, sys.platform, (str(tmp_path / "nowhere" / "python3"),))
    assert install.main(["--target", str(tmp_path / "home")]) == 2 and not (tmp_path / "home").exists()
    assert install.main(["--target", str(tmp_path / "home"), "--python-version", "3.10"]) == 2


def test_install_keeps_the_users_init_and_menu_and_uninstall_restores_them(tmp_path: Path) -> None:
    studio = tmp_path / "studio"
    studio.mkdir()
    (studio / "init.py").write_text("import nuke\nnuke.pluginAddPath('./gizmos')")  # no final newline
    (studio / "menu.py").write_text("import nuke\nnuke.menu('Nodes').addMenu('Studio')\n")
    (studio / "gizmos").mkdir()
    before = snapshot(studio)
    python = [str(nuke_python(tmp_path))]
    plugin = install.install(install.default_target(True, {"NUKE_PATH": os.pathsep.join([str(studio), "/elsewhere"])}), python)
    assert plugin == studio / install.PLUGIN
    init = (studio / "init.py").read_text()
    assert init.startswith("import nuke\nnuke.pluginAddPath('./gizmos')\n" + install.BEGIN) and init.count(install.BEGIN) == 1
    assert (studio / "menu.py").read_bytes() == before["menu.py"]
    install.install(studio, python)  # again: replaced, not doubled
    assert (studio / "init.py").read_text() == init
    assert install.uninstall(studio) and snapshot(studio) == before
    assert not install.uninstall(studio)


def test_failures_leave_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "nuke_home"
    with pytest.raises(install.InstallError, match="pip says no"):
        install.install(target, [str(nuke_python(tmp_path, exit_code=1))])
    assert not target.exists()
    (target / install.PLUGIN).mkdir(parents=True)
    assert install.main(["--target", str(target), "--no-deps"]) == 2  # a folder it did not make stays
    assert list(target.iterdir()) == [target / install.PLUGIN]
    with pytest.raises(install.InstallError, match="NUKE_PATH"):
        install.default_target(True, {})
    assert plugin_install.pip_command("py", Path("s"), None, "3.10")[-5:-1] == ["--python-version", "3.10", "--only-binary=:all:", "pyzmq>=25"]
