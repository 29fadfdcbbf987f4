"""Tags in the formats other photo tools read: XMP sidecars written, XMP/IPTC keywords imported.

Layers, each usable alone:

- :mod:`.xmp`: an XMP packet as a tree; read and replace array properties, keep everything else;
- :mod:`.hierarchy`: keyword paths ("animal|pet|dog") derived from the shipped ImageNet tag table;
- :mod:`.sidecar`: sidecar naming, merging keywords into an existing sidecar, atomic writes, clear failures;
- :mod:`.keywords`: the keywords a photo already has (sidecars, embedded XMP, IPTC);
- :mod:`.sync`: the library side: write accepted tags, import keywords as user tags, with reports.

Nothing here imports Qt or torch; Pillow is imported only to read embedded metadata.
"""

from __future__ import annotations

from .sidecar import NAMINGS, SidecarError, sidecar_path
from .sync import ImportReport, WriteReport, import_keywords, import_photo_keywords, write_sidecars

__all__ = [
    "NAMINGS",
    "ImportReport",
    "SidecarError",
    "WriteReport",
    "import_keywords",
    "import_photo_keywords",
    "sidecar_path",
    "write_sidecars",
]
