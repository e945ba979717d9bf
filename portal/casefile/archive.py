"""The case file as a zip: the sealed PDF, and each evidence file the audience may see,
named by its SHA-256 so that a verifier can check it against the ledger."""

from __future__ import annotations

import zipfile
from pathlib import Path

from portal.casefile.export import CaseFile

EVIDENCE_DIR = "evidence/"


def pdf_name(ref: str) -> str:
    return f"{ref}-casefile.pdf"


def write_zip(path: Path, casefile: CaseFile) -> list[str]:
    """Write the zip; return the names of evidence files not found in the data directory."""
    missing = []
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.write(casefile.path, pdf_name(casefile.ref))
        for item in casefile.evidence:
            stored: Path = item["stored"]
            if stored.is_file():
                archive.write(stored, EVIDENCE_DIR + item["sha256"])
            else:
                missing.append(f"{item['name']} ({item['sha256']})")
    tmp.replace(path)
    return missing
