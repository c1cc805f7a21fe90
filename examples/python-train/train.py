"""A training loop as most research code has one, reporting through massflow's helper: typed params,
a loss per epoch (a curve in MLflow and the run record while it trains), progress for the live view,
the model as an artifact, and a clean stop when massflow stops the stage (a pruner, Ctrl-C).

Runs unchanged outside massflow: `python3 examples/python-train/train.py data.csv model.json m.json`
(needs python/ on PYTHONPATH, or `pip install -e python/`); params then take their defaults.
"""
import csv
import json
import os
import random
import sys
import time
from dataclasses import dataclass

import massflow as mf


@dataclass
class Train:
    epochs: int = 20
    lr: float = 0.05
    batch: int = 32
    seed: int = 0
    epoch_sleep: float = 0.0  # seconds per epoch, to watch it live


cfg = mf.load_params(Train, "train")
data_path, model_path, metrics_path = sys.argv[1:4]
with open(data_path) as f:
    rows = [(float(r["x0"]), float(r["x1"]), float(r["y"])) for r in csv.DictReader(f)]
rng = random.Random(cfg.seed)
rng.shuffle(rows)
split = int(len(rows) * 0.8)
train, val = rows[:split], rows[split:]
w = [0.0, 0.0, 0.0]  # x0, x1, bias


def mse(part):
    return sum((w[0] * a + w[1] * b + w[2] - y) ** 2 for a, b, y in part) / len(part)


epoch = 0
for epoch in range(cfg.epochs):
    if mf.should_stop():
        print(f"stop requested: leaving after {epoch} epochs")
        break
    rng.shuffle(train)
    for i in range(0, len(train), cfg.batch):
        batch = train[i:i + cfg.batch]
        g = [0.0, 0.0, 0.0]
        for a, b, y in batch:
            err = w[0] * a + w[1] * b + w[2] - y
            g[0] += err * a
            g[1] += err * b
            g[2] += err
        w = [wi - cfg.lr * 2 * gi / len(batch) for wi, gi in zip(w, g)]
    mf.log_metric("train/loss", mse(train), step=epoch)
    mf.log_metric("val/loss", mse(val), step=epoch)
    mf.progress(epoch + 1, cfg.epochs)
    time.sleep(cfg.epoch_sleep)

os.makedirs(os.path.dirname(model_path), exist_ok=True)
with open(model_path, "w") as f:
    json.dump({"w": w}, f)
os.makedirs(os.path.dirname(metrics_path), exist_ok=True)
with open(metrics_path, "w") as f:
    json.dump({"val_mse": mse(val), "epochs": epoch + 1}, f)
mf.artifact(model_path)
print(f"val mse {mse(val):.4f} after {epoch + 1} epochs")
