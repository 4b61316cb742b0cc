"""Reading by reference: a path checked, then swapped before the open, is caught at the open;
a file rewritten between its check at intake and its copy into the job is refused."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from infusion.engine.service import allowed_roots
from infusion.engine.service.intake import copy_references, plan_submit
from infusion.protocol.messages import ErrorCode, ProtocolError, header, validate_request

from service_support import FIRST, LAST, make_shot


def checked_as_if_before_a_swap(monkeypatch) -> None:
    """The path check passes the path as it is (what it saw before a swap); the open must catch the swap."""
    monkeypatch.setattr(allowed_roots, "check_reference", lambda path, roots, field: path)


def test_a_reference_that_became_a_symlink_after_its_check_is_refused_at_the_open(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "secret.exr").write_bytes(b"secret")
    (tmp_path / "root" / "plate.exr").symlink_to(tmp_path / "secret.exr")
    checked_as_if_before_a_swap(monkeypatch)
    with pytest.raises(ProtocolError, match="changed while it was opened .* became a symlink") as caught:
        with allowed_roots.open_reference(str(tmp_path / "root" / "plate.exr"), [tmp_path / "root"], "shot.plate"):
            pass
    assert caught.value.code == ErrorCode.PATH_NOT_ALLOWED


def test_a_reference_whose_folder_became_a_symlink_after_its_check_is_refused_at_the_open(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "plate.exr").write_bytes(b"secret")
    (tmp_path / "root" / "shot").symlink_to(tmp_path / "outside")
    checked_as_if_before_a_swap(monkeypatch)
    with pytest.raises(ProtocolError, match=f"the file opened, '{tmp_path}/outside/plate.exr', lies outside"):
        with allowed_roots.open_reference(str(tmp_path / "root" / "shot" / "plate.exr"), [tmp_path / "root"], "shot.plate"):
            pass


def test_a_fifo_inside_a_root_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "plate.exr")
    with pytest.raises(ProtocolError, match="is not a regular file"):
        with allowed_roots.open_reference(str(tmp_path / "plate.exr"), [tmp_path], "shot.plate"):
            pass


def test_a_reference_rewritten_between_its_check_and_its_copy_is_refused(tmp_path: Path) -> None:
    make_shot(tmp_path / "shot")
    submit = header("submit", id=1, inputs="reference",
                    shot={"frames": [FIRST, LAST], "plate": str(tmp_path / "shot" / "plate.####.exr"), "preset": "test",
                          "matte": str(tmp_path / "shot" / "matte.####.exr")})
    roots = [tmp_path / "shot"]
    plan = plan_submit(validate_request(submit, 0).fields, [], roots)
    (tmp_path / "inputs").mkdir()
    plan.fill_inputs(tmp_path / "inputs")
    (tmp_path / "shot" / f"plate.{LAST:04d}.exr").write_bytes(b"another file")
    with pytest.raises(ProtocolError, match=f"plate frame {LAST} changed after it was submitted") as caught:
        copy_references(tmp_path / "inputs", roots, lambda: None)
    assert caught.value.code == ErrorCode.BAD_INPUT
    assert not (tmp_path / "inputs" / f"plate.{LAST:08d}.exr").exists()  # the copy never appears
    assert (tmp_path / "inputs" / f"plate.{FIRST:08d}.exr").read_bytes() == (tmp_path / "shot" / f"plate.{FIRST:04d}.exr").read_bytes()
