"""The Resolve/Fusion installer on temporary home folders laid out as on Linux, macOS and Windows:
what it writes where, that pip runs once with the chosen interpreter (or the one fusionscript would
load), that this interpreter must import pyzmq and msgpack afterwards, that the installed script
opens the panel in (fake) Fusion on its own, and that uninstall leaves every byte as it was.

Where fusionscript looks for Python 3: ``FUSION_PYTHON3_HOME`` (ynput/ayon-fusion
``hooks/pre_fusion_setup.py`` sets it for Fusion 18+ and accepts several homes ``os.pathsep``
apart; ``addon.py``'s FUSION_VERSIONS_DICT), ``PYTHON3HOME`` beside ``FUSION_Python3_Home`` in a
pipeline's list of the variables Resolve/Fusion read (the code index), the registry's PEP 514
``PythonCore\\X.Y\\InstallPath`` on Windows (as nodejs ``tools/msvs/find_python.cmd`` reads it), and
``/usr/local/bin/python3`` (the issue's word; not found in a public description)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from install_support import fake_python, snapshot

from infusion.host_plugins.resolve import install

TESTS = Path(__file__).parents[1]
EXPECTED = {  # relative to the home folder (Windows: APPDATA is home/AppData/Roaming)
    "Linux": (".local/share/DaVinciResolve/Fusion", ".fusion/BlackmagicDesign/Fusion"),
    "Darwin": ("Library/Application Support/Blackmagic Design/DaVinci Resolve/Fusion",
               "Library/Application Support/Blackmagic Design/Fusion"),
    "Windows": ("AppData/Roaming/Blackmagic Design/DaVinci Resolve/Support/Fusion", "AppData/Roaming/Blackmagic Design/Fusion"),
}
OPEN_PANEL = """
import json, runpy, sys
sys.path.insert(0, sys.argv[2])
from fake_fusion import Composition, Host
host = Host(Composition())
runpy.run_path(sys.argv[1], init_globals=host.globals())
import infusion.host_plugins.resolve.panel as panel, infusion.protocol.client as client
print(json.dumps({"modules": [panel.__file__, client.__file__], "items": sorted(host.items), "path": sys.path[:2]}))
"""


def resolve_python(folder: Path, exit_code: int = 0, imports: bool = True) -> Path:
    """fake_python (pip) that also answers the installer's import check: pyzmq's version, or the
    ModuleNotFoundError a Python without it prints."""
    pip = fake_python(folder, exit_code)
    script = folder / "resolve_python"
    script.write_text(f"#!{sys.executable}\nimport runpy, sys\nif sys.argv[1] == '-c':\n"
                      f"    print('26.0.0' if {imports} else \"ModuleNotFoundError: No module named 'zmq'\")\n"
                      f"    sys.exit(0 if {imports} else 1)\nrunpy.run_path({str(pip)!r}, run_name='__main__')\n")
    script.chmod(0o755)
    return script


@pytest.mark.parametrize("system", sorted(EXPECTED))
def test_install_into_resolve_and_fusion_studio_then_uninstall(tmp_path: Path, system: str) -> None:
    home = tmp_path / "home"
    environ = {"APPDATA": str(home / "AppData" / "Roaming")}
    resolve, fusion = (home / relative for relative in EXPECTED[system])
    assert install.fusion_folders(system, home, environ) == {"DaVinci Resolve": resolve, "Fusion Studio": fusion}
    (resolve / "Scripts" / "Comp").mkdir(parents=True)
    (resolve / "Scripts" / "Comp" / "Mine.lua").write_text("print('the user's own')")
    fusion.mkdir(parents=True)  # Fusion Studio started once, no Scripts/ yet
    before = snapshot(home)
    python = resolve_python(tmp_path)

    plugins = install.install(install.default_targets(system, home, environ), str(python), wheels=str(tmp_path / "wheels"))
    assert plugins == [resolve / install.PLUGIN, fusion / install.PLUGIN]
    runs = (tmp_path / "runs.txt").read_text().splitlines()
    assert [json.loads(run)[:5] for run in runs] == [["-m", "pip", "install", "--target", str(plugins[0] / "site-packages")]]
    for folder, plugin in zip((resolve, fusion), plugins):
        assert (plugin / "site-packages" / "fake-pip").is_file()  # pip ran once, the second got a copy
        launcher = (folder / "Scripts" / "Comp" / install.SCRIPT).read_text()
        assert launcher.startswith(install.HEADER) and repr(str(plugin / "site-packages")) in launcher
        tree = {str(p.relative_to(plugin / "infusion")) for p in (plugin / "infusion").rglob("*.py")}
        assert {"protocol/client.py", "host_plugins/common/session.py", "host_plugins/resolve/panel.py"} <= tree
        assert not {"host_plugins/resolve/install.py", "host_plugins/plugin_install.py"} & tree
        assert not any(p.suffix == ".py" for p in (folder / "Scripts").rglob("*") if p.name not in (install.SCRIPT,))
    assert sorted(p.name for p in fusion.iterdir()) == [install.PLUGIN, "Scripts"]

    install.install([resolve], str(python), deps=False)  # again: replaced, not doubled
    assert [install.uninstall(folder) for folder in (resolve, fusion)] == [True, True]
    assert snapshot(home) == before and not (fusion / "Scripts").exists()
    assert not install.uninstall(resolve)


def test_the_command_installs_what_starts_in_fusion_on_its_own(tmp_path: Path) -> None:
    home = tmp_path / "home"
    resolve = home / EXPECTED["Linux"][0]
    resolve.mkdir(parents=True)  # Resolve started once; no Fusion Studio here
    env = dict(os.environ, HOME=str(home))
    python_home = tmp_path / "python3"  # no --python: the one FUSION_PYTHON3_HOME names, as fusionscript loads it
    (python_home / "bin").mkdir(parents=True)
    resolve_python(tmp_path).rename(python_home / "bin" / "python3")
    env["FUSION_PYTHON3_HOME"] = os.pathsep.join([str(tmp_path / "gone"), str(python_home)])
    command = [sys.executable, "-m", "infusion.host_plugins.resolve.install"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [f"checked: {python_home / 'bin' / 'python3'} imports pyzmq and msgpack",
                                                f"installed Infusion in {resolve}: Workspace > Scripts > Infusion on the Fusion page"]
    plugin = resolve / install.PLUGIN

    # Fusion runs the script with fu, comp and bmd; no site processing: only the installed copy of
    # infusion is importable (the repository's editable install is not seen)
    pythonpath = os.pathsep.join([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    started = subprocess.run([sys.executable, "-S", "-c", OPEN_PANEL, str(resolve / "Scripts" / "Comp" / install.SCRIPT), str(TESTS)],
                             capture_output=True, text=True, timeout=60, env=dict(os.environ, PYTHONPATH=pythonpath))
    assert started.returncode == 0, started.stderr
    report = json.loads(started.stdout)
    assert all(m.startswith(str(plugin / "infusion")) for m in report["modules"]) and report["path"] == \
        [str(plugin / "site-packages"), str(plugin)]
    assert {"Inpaint", "Cancel", "Reattach", "SendToFarm", "Status", "Progress", "Job"} <= set(report["items"])

    done = subprocess.run(command[:3] + ["--uninstall"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and f"removed Infusion from {resolve}" in done.stdout
    assert sorted(p.name for p in resolve.iterdir()) == []


def test_failures_leave_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "Fusion"
    with pytest.raises(install.InstallError, match="pip says no"):
        install.install([folder], str(resolve_python(tmp_path, exit_code=1)))
    assert not folder.exists()
    with pytest.raises(install.InstallError, match="cannot import pyzmq and msgpack"):  # pip ran, its Python cannot import them
        install.install([folder, tmp_path / "Fusion Studio"], str(resolve_python(tmp_path, imports=False)))
    assert not folder.exists() and not (tmp_path / "Fusion Studio").exists()
    (folder / "Scripts" / "Comp").mkdir(parents=True)
    (folder / "Scripts" / "Comp" / install.SCRIPT).write_text("the user's own Infusion.py")
    assert install.main(["--target", str(folder), "--no-deps", "--python", str(resolve_python(tmp_path))]) == 2  # a script it did not write stays
    assert sorted(p.name for p in folder.iterdir()) == ["Scripts"]
    with pytest.raises(install.InstallError, match="start Resolve or Fusion once"):
        install.default_targets("Linux", tmp_path / "nobody", {})


@pytest.mark.parametrize("system, environ, registry, expected", [
    ("Linux", {"FUSION_PYTHON3_HOME": "/gone:/opt/py310", "PYTHON3HOME": "/opt/py39"}, {}, "/opt/py310/bin/python3"),
    ("Darwin", {"PYTHON3HOME": "/Library/Frameworks/Python.framework/Versions/3.10"}, {},
     "/Library/Frameworks/Python.framework/Versions/3.10/bin/python3"),
    ("Linux", {}, {}, install.UNIX_PYTHON),
    ("Windows", {"FUSION_Python3_Home": r"C:\Py36"}, {"3.11": r"C:\Py311"}, r"C:\Py36" + "/python.exe"),
    ("Windows", {}, {"2.7": r"C:\Py27", "3.9": r"C:\Py39", "3.11-32": r"C:\Py311"}, r"C:\Py311" + "/python.exe"),
    ("Windows", {}, {}, None),
])
def test_the_host_python_is_found_where_fusionscript_looks(system, environ, registry, expected) -> None:
    present = {"/opt/py310/bin/python3", "/opt/py39/bin/python3", install.UNIX_PYTHON,
               "/Library/Frameworks/Python.framework/Versions/3.10/bin/python3",
               r"C:\Py36" + "/python.exe", r"C:\Py39" + "/python.exe", r"C:\Py311" + "/python.exe", r"C:\Py27" + "/python.exe"}
    assert install.host_python(system, environ, lambda: registry, present.__contains__) == expected
