"""lunr.js is third-party code: pinned, unmodified, shipped with its licence."""

from __future__ import annotations

import hashlib

from support import REPO

VENDOR = REPO / "themes" / "default" / "static" / "vendor" / "lunr-2.3.9"
# sha256 of lunr.min.js from the npm package lunr@2.3.9 (integrity sha512-zTU3DaZaF3Rt9rhN3uBMGQD3dD2/
# vFQqnvZCDv4dl5iOzq2IZQqTxu90r4E5J+nP70J3ilqVCrbho2eWaeW8Ow==), extracted unmodified.
LUNR_MIN_SHA256 = "0c50d9002b85780a842afffb567bb54ede402dae7c6dc5997a018614d8044fc8"


def test_lunr_is_the_pinned_release_unmodified():
    assert hashlib.sha256((VENDOR / "lunr.min.js").read_bytes()).hexdigest() == LUNR_MIN_SHA256


def test_lunr_ships_with_its_licence(seeds_site):
    licence = (VENDOR / "LICENSE").read_text()
    assert "Copyright (C) 2013 by Oliver Nightingale" in licence and "Permission is hereby granted" in licence
    shipped = seeds_site / "assets" / "vendor" / "lunr-2.3.9"
    assert (shipped / "LICENSE").read_text() == licence
    assert hashlib.sha256((shipped / "lunr.min.js").read_bytes()).hexdigest() == LUNR_MIN_SHA256
