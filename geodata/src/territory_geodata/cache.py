"""The on-disk cache: where it lives, checksums, and atomic array files (``.npz``, no pickle).

Layout under ``cache_root()``::

    inputs/                 downloaded inputs (us-atlas tgz and the extracted counties-10m.json)
    counties.npz ...        one array file per built layer; present = built (never rebuilt while present)
    demo/a50000-r100-s42/   outputs of ``build_demo``
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import shapely

from .errors import ChecksumMismatch

# Bump when the output of any builder changes, so that old caches are not reused.
CACHE_TAG = "v1"
ENV_CACHE_DIR = "TERRITORY_CACHE_DIR"
FILE_MODE = 0o644

Arrays = dict[str, np.ndarray]


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The cache directory: ``cache_dir`` if given, else ``${TERRITORY_CACHE_DIR:-~/.cache/territory}/geodata/v1``."""
    if cache_dir is not None:
        root = Path(cache_dir)
    else:
        base = os.environ.get(ENV_CACHE_DIR) or str(Path.home() / ".cache" / "territory")
        root = Path(base).expanduser() / "geodata" / CACHE_TAG
    root.mkdir(parents=True, exist_ok=True)
    return root


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str) -> str:
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumMismatch(f"{path}: sha256 {actual}, expected the pinned {expected}")
    return actual


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, FILE_MODE)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_arrays(path: Path, arrays: Arrays) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".npz")
    os.close(fd)
    try:
        np.savez(tmp, **arrays)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_arrays(path: Path) -> Arrays:
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def cached_arrays(path: Path, build: Callable[[], Arrays]) -> Arrays:
    """The arrays stored at ``path``; built once with ``build()`` and saved when the file is missing."""
    if path.exists():
        return load_arrays(path)
    arrays = build()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_arrays(path, arrays)
    return arrays


def pack_geometries(geometries: np.ndarray, prefix: str = "geom") -> Arrays:
    """Geometries as WKB bytes concatenated + offsets: storable in ``.npz`` without pickle."""
    wkb = shapely.to_wkb(geometries)
    lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    blob = np.frombuffer(b"".join(wkb), dtype=np.uint8)
    return {f"{prefix}_wkb": blob, f"{prefix}_offsets": offsets}


def unpack_geometries(arrays: Arrays, prefix: str = "geom") -> np.ndarray:
    blob = arrays[f"{prefix}_wkb"].tobytes()
    offsets = arrays[f"{prefix}_offsets"]
    wkb = np.array([blob[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)], dtype=object)
    return shapely.from_wkb(wkb)
