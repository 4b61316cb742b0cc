"""The protocol package alone: schema validation, wire caps, frame names; importable without torch/numpy."""
from __future__ import annotations

import re
import subprocess
import sys

import msgpack
import pytest

from infusion.protocol import messages as m
from infusion.protocol import wire
from infusion.protocol.files import atomic_path, frame_path, remove_temporaries, remove_temporaries_under, write_atomically
from infusion.protocol.messages import ErrorCode, ProtocolError
from infusion.protocol.progress import preview_text, progress_text

SHOT = {"frames": [1, 2], "plate": "p.####.exr", "matte": None, "preset": "test"}
PAYLOADS = [{"role": "plate", "frame": 1}, {"role": "plate", "frame": 2}]


def header(kind: str, parts: int = 0, **fields):
    return {"v": 1, "type": kind, "id": 7, "parts": parts, **fields}


def code_of(value, parts: int = 0) -> str:
    with pytest.raises(ProtocolError) as caught:
        m.validate_request(value, parts)
    return caught.value.code


def test_valid_requests_come_back_cleaned() -> None:
    request = m.validate_request(header("submit", 2, shot=SHOT, inputs="value", payloads=PAYLOADS), 2)
    assert request.type == "submit" and request.id == 7
    assert request.fields["shot"]["settings"] == {} and request.fields["shot"]["frames"] == (1, 2)
    assert m.validate_request(header("attach", job="ab" * 12), 0).fields == {"job": "ab" * 12, "since": 0}


def test_schema_errors_have_stable_codes_and_name_the_field() -> None:
    assert code_of([1]) == ErrorCode.BAD_MESSAGE
    assert code_of(header("list", v=2)) == code_of(header("list", v=True)) == ErrorCode.BAD_VERSION
    assert code_of(header("format_disk")) == ErrorCode.UNKNOWN_TYPE
    assert code_of(header("status", job="../../etc")) == ErrorCode.BAD_FIELD
    assert code_of(header("list", extra=1)) == ErrorCode.BAD_FIELD
    assert code_of(header("list", parts=1), 0) == ErrorCode.MISSING_PAYLOAD
    assert code_of(header("submit", 1, shot=SHOT, inputs="value", payloads=PAYLOADS[:1]), 1) == ErrorCode.MISSING_PAYLOAD
    assert code_of(header("submit", shot={**SHOT, "frames": [0, 10**7]}, inputs="reference")) == ErrorCode.TOO_LARGE
    with pytest.raises(ProtocolError) as caught:
        m.validate_request(header("submit", shot={**SHOT, "settings": {"seed": [1]}}, inputs="reference"), 0)
    assert caught.value.field == "shot.settings.seed"


def test_shot_choices_are_checked_by_their_declaration() -> None:
    def shot_error(**fields) -> ProtocolError:
        with pytest.raises(ProtocolError) as caught:
            m.validate_request(header("submit", shot={**SHOT, **fields}, inputs="reference"), 0)
        return caught.value

    shot = m.validate_request(header("submit", shot={**SHOT, "settings": {"seed": 3, "intervals": None},
                                                     "options": {"threshold": 1, "colorspace": "ACEScg"}},
                                     inputs="reference"), 0).fields["shot"]
    assert shot["settings"] == {"seed": 3} and shot["options"] == {"threshold": 1.0, "colorspace": "ACEScg"}
    assert isinstance(shot["options"]["threshold"], float) and (shot["matte_channel"], SHOT["preset"]) == ("A", "test")
    for fields, field, words in (({"settings": {"variants": 0}}, "shot.settings.variants", "must lie in [1, 64]"),
                                 ({"settings": {"learning_rate": 1.0}}, "shot.settings.learning_rate", "known: seed"),
                                 ({"options": {"seed": 1}}, "shot.options.seed", "known: threshold"),
                                 ({"options": {"margin": float("nan")}}, "shot.options.margin", "must lie in"),
                                 ({"options": {"dilation": 1.5}}, "shot.options.dilation", "must be an integer")):
        error = shot_error(**fields)
        assert (error.code, error.field) == (ErrorCode.BAD_FIELD, field) and words in error.message, error.message


def test_progress_reads_the_same_everywhere() -> None:
    assert progress_text({"phase": "train", "interval": 2, "intervals": 20, "step": 5, "steps": 10, "remaining": 600}) == \
        "interval 3/20: train step 5/10, 10 min left"
    assert progress_text({"phase": "read", "step": 2, "steps": 8}) == "reading plate 2/8"
    assert preview_text({"interval": 0, "intervals": 2}) == "preview after interval 1/2"


def test_wire_refuses_extensions_and_oversized_headers() -> None:
    assert wire.decode([msgpack.packb({"a": msgpack.ExtType(1, b"x")})]).error.code == ErrorCode.BAD_MESSAGE
    assert wire.decode([b"\xc1"]).error.code == ErrorCode.BAD_MESSAGE
    assert wire.decode([b"x" * (wire.MAX_HEADER_BYTES + 1)]).error.code == ErrorCode.TOO_LARGE
    frames = wire.encode(m.header("ping", 1, id=1), [b"data"])
    decoded = wire.decode(frames)
    assert decoded.header["type"] == "ping" and decoded.payloads == [b"data"]
    with pytest.raises(ValueError):
        wire.encode(m.header("ping", 2, id=1), [b"data"])


def test_frame_paths_and_atomic_writes(tmp_path) -> None:
    assert frame_path("/a/p.####.exr", 12) == "/a/p.0012.exr" and frame_path("p.%05d.exr", 3) == "p.00003.exr"
    with pytest.raises(ValueError):
        frame_path("/a/p.exr", 1)
    target = tmp_path / "f" / "x.exr"
    write_atomically(str(target), b"one")
    write_atomically(str(target), b"two")
    assert target.read_bytes() == b"two" and [p.name for p in target.parent.iterdir()] == ["x.exr"]


def test_a_temporary_is_named_so_no_sequence_reader_takes_it_for_a_frame(tmp_path) -> None:
    """A SIGKILL mid-write left ``.fill_v2.1003.exr.xxxx.exr`` beside the frames, named like one."""
    target = tmp_path / "fill_v2.1003.exr"
    frame = re.compile(r".*\.\d+\.exr")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".fill_v2.1003.exr.")
        assert temporary.suffix == ".tmp" and not frame.fullmatch(temporary.name)
        raise KeyboardInterrupt  # the write is abandoned and its temporary removed
    temporary.write_bytes(b"half")  # as a killed process leaves it
    older = tmp_path / ".fill_v2.1003.exr.k2j3h4g5.exr"  # an older release's name, and a user's own files
    older.write_bytes(b"x")
    for mine in (".fill_v2.1003.exr.notes", "fill_v2.1004.exr", ".fill_v2.1004.exr.abcdefgh.tmp"):
        (tmp_path / mine).write_bytes(b"mine")
    assert sorted(remove_temporaries([target])) == sorted([temporary, older])
    assert sorted(p.name for p in tmp_path.iterdir()) == [".fill_v2.1003.exr.notes", ".fill_v2.1004.exr.abcdefgh.tmp",
                                                          "fill_v2.1004.exr"]
    assert remove_temporaries_under(tmp_path) == [tmp_path / ".fill_v2.1004.exr.abcdefgh.tmp"]


def test_protocol_imports_without_numpy_or_torch() -> None:
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('numpy', 'torch', 'OpenImageIO', 'PyOpenColorIO'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import infusion.protocol.client, infusion.protocol.files\n"
        "assert not any(n.startswith('infusion.engine') for n in sys.modules)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


def test_list_pages_default_when_not_asked_and_refuse_bad_pages() -> None:
    assert m.validate_request(header("list"), 0).fields == {"limit": m.DEFAULT_LIST_PAGE, "after": None}  # the old form
    cursor = m.list_cursor(1764634807.123456, "ab" * 12)
    assert m.cursor_position(m.validate_request(header("list", limit=5, after=cursor), 0).fields["after"]) == (
        1764634807.123456, "ab" * 12)
    for bad in ({"limit": 0}, {"limit": m.MAX_LIST_PAGE + 1}, {"after": "1.5/../x"}, {"after": "x" * 200}):
        with pytest.raises(ProtocolError) as caught:
            m.validate_request(header("list", **bad), 0)
        assert caught.value.code == ErrorCode.BAD_FIELD and caught.value.field == next(iter(bad))
    assert m.validate_request(header("purge", older_than=86400), 0).fields == {"older_than": 86400.0}
    assert code_of(header("purge")) == code_of(header("purge", older_than=-1)) == ErrorCode.BAD_FIELD


def test_printable_shows_control_and_format_characters_as_replacements_and_caps_the_length() -> None:
    forged = "test\x1b[2J\x1b[H\r\nab12  done  100%\u202eevil\t"
    shown = m.printable(forged, 200)
    assert shown == "test\ufffd[2J\ufffd[H\ufffd\ufffdab12  done  100%\ufffdevil\ufffd"
    assert m.printable("x" * 100, m.MAX_LABEL) == "x" * (m.MAX_LABEL - 3) + "..." and m.printable(None, 8) == "None"
