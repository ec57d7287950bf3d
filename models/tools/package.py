"""Writes a model package manifest (docs/model-package.md) with every file's sha256 and size."""
import hashlib
import os

import yaml


def file_entry(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        data = f.read()
    return {"path": rel, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def write_manifest(root, manifest, files):
    manifest = dict(manifest)
    manifest["files"] = [file_entry(root, rel) for rel in files]
    with open(os.path.join(root, "model.yaml"), "w") as f:
        f.write("# Written by models/tools; see docs/model-package.md.\n")
        yaml.safe_dump(manifest, f, sort_keys=False, default_flow_style=None, width=120)
