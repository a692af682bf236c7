"""Face recall of `visage detect` on the group-photo set of tools/make_group_set.py, next to the
wheel's full-range detector on the same photos (docs/frontend.md, "Small faces").

    python3 tools/group_recall.py [--set /work/groupset] [--visage target/release/visage]
                                  [--policies short,full,auto,tiles]

For every photo and policy, runs `visage --detector POLICY detect --no-overlay PHOTO` (one CPU
thread) and counts the faces. Where the set knows the true boxes (composites: the pasted face
photos), a detection counts as correct when its centre lies in a true box not yet taken, and
the rest are false positives; real photos have a count by eye only. The wheel's own full-range
counts and boxes come from the set's wheel_counts.json. Prints one Markdown table. Standard
library only.
"""
import argparse
import json
import os
import pathlib
import subprocess
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent


def matched(boxes, truth):
    """(correct, false) detections: centre inside an unused true box [x0, y0, x1, y1]."""
    free, correct = list(truth), 0
    for x0, y0, x1, y1 in boxes:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hit = next((t for t in free if t[0] <= cx <= t[2] and t[1] <= cy <= t[3]), None)
        if hit is not None:
            free.remove(hit)
            correct += 1
    return correct, len(boxes) - correct


def detect(visage, policy, photo):
    """Boxes [x0, y0, x1, y1] of `visage detect` and its wall time in seconds."""
    env = {**os.environ, "RAYON_NUM_THREADS": "1"}
    start = time.perf_counter()
    out = subprocess.run([visage, "--detector", policy, "detect", "--no-overlay", str(photo)],
                         capture_output=True, text=True, env=env)
    took = time.perf_counter() - start
    if out.returncode != 0:  # "no face found" exits non-zero
        return [], took
    faces = json.loads(out.stdout)["faces"]
    return [[f["bbox"][0], f["bbox"][1], f["bbox"][0] + f["bbox"][2], f["bbox"][1] + f["bbox"][3]]
            for f in faces], took


def cell(boxes, truth):
    if truth is None:
        return str(len(boxes))
    correct, false = matched(boxes, truth)
    return f"{correct}" + (f" (+{false} false)" if false else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="/work/groupset", type=pathlib.Path)
    ap.add_argument("--visage", default=str(ROOT / "target/release/visage"))
    ap.add_argument("--policies", default="short,full,auto,tiles")
    args = ap.parse_args()
    expected = json.loads((args.set / "expected.json").read_text())
    wheel = json.loads((args.set / "wheel_counts.json").read_text())
    policies = args.policies.split(",")
    print("| photo | faces | wheel full range | " + " | ".join(f"visage {p}" for p in policies) + " |")
    print("|---|---|---|" + "---|" * len(policies))
    totals = {p: 0 for p in ["wheel"] + policies}
    for name in sorted(expected):
        truth = expected[name].get("boxes")
        row = [name, str(expected[name]["expected"]), cell(wheel[name]["full_boxes"], truth)]
        totals["wheel"] += matched(wheel[name]["full_boxes"], truth)[0] if truth else len(wheel[name]["full_boxes"])
        for p in policies:
            boxes, took = detect(args.visage, p, args.set / name)
            row.append(f"{cell(boxes, truth)}, {took:.2f} s")
            totals[p] += matched(boxes, truth)[0] if truth else len(boxes)
        print("| " + " | ".join(row) + " |")
    total_faces = sum(e["expected"] for e in expected.values())
    print(f"| total (correct where boxes are known) | {total_faces} | {totals['wheel']} | "
          + " | ".join(str(totals[p]) for p in policies) + " |")


if __name__ == "__main__":
    main()
