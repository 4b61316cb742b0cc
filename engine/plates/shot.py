"""A whole shot from EXR sequences to EXR sequences: the host- and service-agnostic pipeline.

``run_shot`` reads the plate twice, never holding more than a few full-resolution frames:

1. headers and mattes give the region of interest (the matte's box over the range plus context);
   the plate's crops are encoded (engine/plates/color.py) and scaled to each level's size
   (engine/method/pyramid.py: the working size, then finer levels up to the plate's own
   resolution when the preset refines), frame by frame, the hole zeroed;
2. ``inpaint_levels`` trains and samples level after level, checkpointing each into the work dir
   (the same call after a crash resumes from the last finished interval of the level it was in);
3. each plate frame is read again, the fill (at the plate's resolution, or scaled back from the
   working size when the preset does not refine) is decoded and composited inside the matte
   only, and every output frame is written atomically.

Outputs: with one variant, ``out`` itself. With K > 1 variants, variant k (1-based) goes to
``out`` with ``_v{k}`` added to its name and their mean to ``_mean``: ``fill.####.exr`` ->
``fill_v1.####.exr`` ... ``fill_vK.####.exr`` and ``fill_mean.####.exr``. Every output frame is
the plate frame with its RGB channels filled; other channels, windows and metadata are the
plate's.

Events passed to ``progress``: the engine's StepProgress, and PlateFrameRead, PreviewWritten and
FrameWritten below. Raising from ``progress`` stops the run (a cancel); what is on disk stays
valid: the last checkpoint and whole output frames only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import numpy as np
import OpenImageIO as oiio
import torch

from infusion.protocol.files import remove_temporaries, remove_temporaries_under

from .color import Encoding, load_config
from ..method.levels import inpaint_levels
from ..method.pyramid import level_shapes, resize, scale_known
from ..storage.checkpoint_file import CheckpointFile
from .matte_rule import MatteRule
from .exr import Frame, channel_index, display_window, read_frame, read_spec, write_frame
from ..method.progress import IntervalFinished
from .roi import Box, composite, context_box, crop
from .sequence import FramePattern, check_frame_range
from .request import ShotRequest


@dataclass(frozen=True)
class PlateFrameRead:
    """A plate frame was read and added to the working stack (``done`` of ``total``)."""

    frame: int
    done: int
    total: int


@dataclass(frozen=True)
class PreviewWritten:
    """After interval ``interval`` (0-based) of ``intervals``: the current estimate of the fill.

    images: (K, T, h, w, 3) float32, linear, the region of interest at level ``level``'s size;
    paths: the same as half-float EXRs in the work dir, ``preview/[level_L/]interval_NN/vK.FRAME.exr``
    (the level folder only above the coarsest level).
    """

    interval: int
    intervals: int
    paths: Tuple[str, ...]
    images: np.ndarray
    level: int = 0
    levels: int = 1


@dataclass(frozen=True)
class FrameWritten:
    """Output frame ``frame`` is on disk at ``path``; variant 1..K, or None for the mean."""

    frame: int
    variant: Optional[int]
    path: str


@dataclass(frozen=True)
class ShotResult:
    """outputs: the pattern written for each variant, in order; mean: the mean's (K > 1 only);
    roi: the region of interest in plate pixels; level_shapes: its (height, width) at each level,
    coarsest (the working size) first.
    """

    outputs: Tuple[str, ...]
    mean: Optional[str]
    roi: Box
    level_shapes: Tuple[Tuple[int, int], ...]

    @property
    def working_shape(self) -> Tuple[int, int]:
        return self.level_shapes[0]


Progress = Callable[[object], None]


def output_patterns(out: str, variants: int) -> Tuple[List[FramePattern], Optional[FramePattern]]:
    """The pattern of each variant's sequence and of the mean (None with one variant)."""
    pattern = FramePattern.parse(out)
    if variants == 1:
        return [pattern], None
    return [pattern.renamed(f"v{k}") for k in range(1, variants + 1)], pattern.renamed("mean")


class _Shot:
    """The request resolved: patterns, frames, matte rule, encoding."""

    def __init__(self, request: ShotRequest, emit: Progress):
        self.request = request
        self.emit = emit
        self.plate = FramePattern.parse(request.plate)
        self.matte = FramePattern.parse(request.matte) if request.matte else None
        first, last = check_frame_range(request.frames)
        self.frames = list(range(first, last + 1))
        if request.margin < 0:
            raise ValueError(f"the context margin must not be negative, got {request.margin}")
        self.rule = MatteRule(request.threshold, request.dilation)
        self.encoding = Encoding(load_config(request.ocio_config), request.colorspace, request.encoding)

    def matte_plane(self, frame: int, plate: Optional[Frame] = None) -> Tuple[np.ndarray, Tuple[int, int]]:
        """The matte of ``frame`` and its origin, from its sequence or from the plate's channel."""
        if self.matte is None and plate is not None:
            return plate.channel(self.request.matte_channel), plate.origin
        source = read_frame((self.matte or self.plate).path(frame), self.request.matte_channel,
                            lone_channel=self.matte is not None)
        return source.pixels[..., 0], source.origin

    def check_matte_window(self, frame: int, plate: oiio.ImageSpec) -> None:
        """A separate matte must share the plate's display window: one of another size (a proxy, an
        unformatted roto) would be applied at the wrong pixels. A ValueError naming both."""
        if self.matte is None:
            return
        matte = read_spec(self.matte.path(frame))
        if display_window(matte) != display_window(plate):
            raise ValueError(f"the matte frame {self.matte.path(frame)} has the display window {window_text(matte)} and "
                             f"the plate frame {self.plate.path(frame)} {window_text(plate)}: reformat the matte to the plate")

    def region(self) -> Box:
        """Pass 1a: the matte's box over the range plus context, inside the plate's data windows."""
        matte_box: Optional[Box] = None
        limits = Box(0, 0, 0, 0)
        for frame in self.frames:
            spec = read_spec(self.plate.path(frame))
            rgb_channels(spec, self.plate.path(frame))
            self.check_matte_window(frame, spec)
            limits = limits.union(Box(spec.x, spec.y, spec.x + spec.width, spec.y + spec.height))
            found = self.rule.box(*self.matte_plane(frame))
            matte_box = found if matte_box is None else matte_box.union(found)
        source = self.request.matte or f"channel {self.request.matte_channel} of {self.request.plate}"
        if matte_box is None or matte_box.intersect(limits).empty:
            raise ValueError(f"the matte ({source}) is empty over frames {self.frames[0]}-{self.frames[-1]} "
                             f"(no pixel above the threshold {self.rule.threshold} inside the plate)")
        return context_box(matte_box.intersect(limits), self.request.margin, limits)

    def stacks(self, box: Box, shapes: List[Tuple[int, int]]) -> List[Tuple[torch.Tensor, torch.Tensor]]:
        """Pass 1b: per level, (3, T, h, w) encoded video (hole zeroed) and (T, h, w) hole of the
        region at that level's shape; hidden pixels never reach a known one (pyramid.scale_known)."""
        levels: List[Tuple[List[torch.Tensor], List[torch.Tensor]]] = [([], []) for _ in shapes]
        for done, frame in enumerate(self.frames, 1):
            plate = read_frame(self.plate.path(frame))
            rgb = crop(plate.pixels, plate.origin, box)[..., list(rgb_channels(plate.spec, plate.path))]
            encoded = torch.from_numpy(self.encoding.encode(rgb)).permute(2, 0, 1)[None]
            hole = torch.from_numpy(self.rule.weights(*self.matte_plane(frame, plate), box) > 0)[None]
            del plate, rgb  # before the next frame is read: one full-resolution frame at a time
            for (videos, holes), shape in zip(levels, shapes):
                video, small_hole = scale_known(encoded, hole, shape)
                videos.append(video[0])
                holes.append(small_hole[0])
            self.emit(PlateFrameRead(frame, done, len(self.frames)))
        return [(torch.stack(videos, dim=1), torch.stack(holes)) for videos, holes in levels]

    def write_previews(self, event: IntervalFinished, work_dir: Path) -> None:
        images = self.encoding.decode(event.preview.permute(0, 2, 3, 4, 1).numpy())
        paths = []
        if self.request.previews:
            folder = work_dir / "preview" / (f"level_{event.level}" if event.level else "") / f"interval_{event.interval:02d}"
            for k, variant in enumerate(images, 1):
                for frame, image in zip(self.frames, variant):
                    path = str(folder / f"v{k}.{frame:04d}.exr")
                    spec = oiio.ImageSpec(image.shape[1], image.shape[0], 3, "half")
                    spec.attribute("compression", "zip")
                    write_frame(path, image, spec)
                    paths.append(path)
        self.emit(PreviewWritten(event.interval, event.intervals, tuple(paths), images, event.level, event.levels))

    def write_outputs(self, box: Box, fills: torch.Tensor, patterns: List[FramePattern]) -> None:
        """Pass 2: composite ``fills`` (N, 3, T, h, w, encoded) into each plate frame and write them."""
        labels: List[Optional[int]] = list(range(1, len(patterns) + 1))
        if len(patterns) > 1:
            labels[-1] = None  # the last pattern is the mean's
        for index, frame in enumerate(self.frames):
            plate = read_frame(self.plate.path(frame))
            channels = rgb_channels(plate.spec, plate.path)
            weight = self.rule.weights(*self.matte_plane(frame, plate), box)
            touched = weight > 0
            scaled = resize(fills[:, :, index], (box.height, box.width)).permute(0, 2, 3, 1).numpy()
            window = Box.of_window(plate.origin, plate.pixels.shape)
            region = box.intersect(window).slices(window)
            backup = plate.pixels[region].copy()
            for pattern, label, fill in zip(patterns, labels, scaled):
                linear = np.zeros(fill.shape, np.float32)
                linear[touched] = self.encoding.decode(fill[touched])
                composite(plate.pixels, plate.origin, channels, box, linear, weight, self.encoding.white)
                write_frame(pattern.path(frame), plate.pixels, plate.spec)
                plate.pixels[region] = backup
                self.emit(FrameWritten(frame, label, pattern.path(frame)))


def window_text(spec: oiio.ImageSpec) -> str:
    """A display window as people read it: ``1920x1080 at (0, 0)``."""
    x, y, width, height = display_window(spec)
    return f"{width}x{height} at ({x}, {y})"


def rgb_channels(spec: oiio.ImageSpec, path: str) -> Tuple[int, int, int]:
    """Indices of the R, G and B channels; an error naming the file if one is missing."""
    return tuple(channel_index(spec, name, path) for name in "RGB")  # type: ignore[return-value]


def remove_leftovers(work_dir: Path, outputs: List[str]) -> None:
    """Remove what atomic writes of an earlier run killed mid-write left: every temporary in the
    work dir (the run's own) and those of the output frames this run writes."""
    remove_temporaries_under(work_dir)
    remove_temporaries(outputs)


def run_shot(request: ShotRequest, work_dir: Path, device: str = "cpu",
             progress: Optional[Progress] = None) -> ShotResult:
    """Fill the matte of the shot, write every output frame, return where they are."""
    emit: Progress = progress or (lambda event: None)
    shot = _Shot(request, emit)
    work_dir = Path(work_dir)
    patterns, mean = output_patterns(request.out, request.settings.variants)
    remove_leftovers(work_dir, [pattern.path(frame) for pattern in patterns + ([mean] if mean else [])
                                for frame in shot.frames])
    box = shot.region()
    shapes = level_shapes(box.height, box.width, request.settings)
    stacks = shot.stacks(box, shapes)

    def relay(event: object) -> None:
        if isinstance(event, IntervalFinished):
            shot.write_previews(event, work_dir)
        else:
            emit(event)

    def checkpoint(level: int) -> CheckpointFile:
        return CheckpointFile(work_dir / ("checkpoint.pt" if level == 0 else f"checkpoint_level{level}.pt"))

    result = inpaint_levels(stacks, request.settings, device=device, checkpoints=checkpoint, progress=relay)
    fills = result.variants if mean is None else torch.cat([result.variants, result.mean()[None]])
    shot.write_outputs(box, fills, patterns + ([mean] if mean else []))
    return ShotResult(tuple(str(p) for p in patterns), str(mean) if mean else None, box, tuple(shapes))
