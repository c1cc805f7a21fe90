"""Writes a small regression data set: y = 3 x0 - 2 x1 + 0.5 + noise, as CSV. Standard library only."""
import csv
import os
import random
import sys

out, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["x0", "x1", "y"])
    for _ in range(n):
        x0, x1 = rng.uniform(-1, 1), rng.uniform(-1, 1)
        w.writerow([f"{x0:.6f}", f"{x1:.6f}", f"{3 * x0 - 2 * x1 + 0.5 + rng.gauss(0, 0.1):.6f}"])
print(f"wrote {n} rows to {out}")
