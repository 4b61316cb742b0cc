"""The Nuke installer against temporary home and studio folders, with and without init.py and
menu.py of the user's own: what it writes, that the installed copy starts in (fake) Nuke on its
own, that pip runs with the chosen interpreter, and that uninstall leaves every byte as it was."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from install_support import fake_python, snapshot

from infusion.host_plugins import plugin_install
from infusion.host_plugins.nuke import install

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


def test_install_into_a_fresh_home_starts_in_nuke_and_uninstalls(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    python = fake_python(tmp_path)
    env = dict(os.environ, HOME=str(home), USERPROFILE=str(home))
    command = [sys.executable, "-m", "infusion.host_plugins.nuke.install", "--python", str(python), "--wheels", str(tmp_path / "wheels")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    target, plugin = home / ".nuke", home / ".nuke" / install.PLUGIN
    site = plugin / "site-packages"
    assert json.loads((tmp_path / "argv.json").read_text()) == [
        "-m", "pip", "install", "--target", str(site), "--upgrade", "--disable-pip-version-check",
        "--no-index", "--find-links", str(tmp_path / "wheels"), "pyzmq>=25", "msgpack>=1.0"]
    assert (site / "fake-pip").exists()
    assert sorted(p.name for p in target.iterdir()) == ["infusion_plugin", "init.py"]
    assert (target / "init.py").read_text() == f"{install.BEGIN}import nuke\nnuke.pluginAddPath({str(plugin)!r})\n{install.END}"
    tree = plugin / "infusion"
    assert {"protocol/client.py", "host_plugins/__init__.py", "host_plugins/common/follow.py", "host_plugins/nuke/node.py"} <= \
        {str(p.relative_to(tree)) for p in tree.rglob("*.py")}
    assert not (tree / "engine").exists() and not (tree / "host_plugins" / "nuke" / "install.py").exists()

    # Nuke starting: ~/.nuke/init.py, then the plugin's init.py and menu.py; only the installed copy
    # of infusion is importable (no site processing: the repository's editable install is not seen).
    pythonpath = os.pathsep.join([str(FAKE_NUKE), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    started = subprocess.run([sys.executable, "-S", "-c", STARTUP, str(target)], capture_output=True, text=True, timeout=60,
                             env=dict(os.environ, PYTHONPATH=pythonpath, OMP_NUM_THREADS="1"))
    assert started.returncode == 0, started.stderr
    report = json.loads(started.stdout)
    assert all(m.startswith(str(tree)) for m in report["modules"]) and report["path"] == [str(site), str(plugin)]
    assert report["name"] == "Infusion1" and {"inpaint", "cancel", "reattach", "send_to_farm"} <= set(report["knobs"])
    assert report["on_load"] == ["reattach_all"]

    done = subprocess.run(command + ["--uninstall"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "removed" in done.stdout
    assert not target.exists()  # install made ~/.nuke, uninstall removed it: nothing else was in it


def test_install_keeps_the_users_init_and_menu_and_uninstall_restores_them(tmp_path: Path) -> None:
    studio = tmp_path / "studio"
    studio.mkdir()
    (studio / "init.py").write_text("import nuke\nnuke.pluginAddPath('./gizmos')")  # no final newline
    (studio / "menu.py").write_text("import nuke\nnuke.menu('Nodes').addMenu('Studio')\n")
    (studio / "gizmos").mkdir()
    before = snapshot(studio)
    python = str(fake_python(tmp_path))
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
        install.install(target, str(fake_python(tmp_path, exit_code=1)))
    assert not target.exists()
    (target / install.PLUGIN).mkdir(parents=True)
    assert install.main(["--target", str(target), "--no-deps"]) == 2  # a folder it did not make stays
    assert list(target.iterdir()) == [target / install.PLUGIN]
    with pytest.raises(install.InstallError, match="NUKE_PATH"):
        install.default_target(True, {})
    assert plugin_install.pip_command("py", Path("s"), None, "3.10")[-5:-1] == ["--python-version", "3.10", "--only-binary=:all:", "pyzmq>=25"]
