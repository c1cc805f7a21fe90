"""The same training loop instrumented with DVCLive instead (`pip install dvclive`), as many scripts
already are. massflow needs no change to it: the rows DVCLive writes to dvclive/plots/metrics/ stream
as step metrics while it trains, and dvclive/metrics.json (declared as the stage's metrics) is the
summary. Params still come from MASSFLOW_PARAMS (plain JSON, no helper needed).
"""
import csv
import json
import os
import random
import sys
import time

from dvclive import Live

params = json.loads(os.environ.get("MASSFLOW_PARAMS", "{}")).get("train", {})
epochs, lr, batch = int(params.get("epochs", 20)), float(params.get("lr", 0.05)), int(params.get("batch", 32))
epoch_sleep = float(params.get("epoch_sleep", 0.0))
data_path, model_path = sys.argv[1:3]
with open(data_path) as f:
    rows = [(float(r["x0"]), float(r["x1"]), float(r["y"])) for r in csv.DictReader(f)]
rng = random.Random(int(params.get("seed", 0)))
rng.shuffle(rows)
split = int(len(rows) * 0.8)
train, val = rows[:split], rows[split:]
w = [0.0, 0.0, 0.0]


def mse(part):
    return sum((w[0] * a + w[1] * b + w[2] - y) ** 2 for a, b, y in part) / len(part)


with Live(dir="examples/python-train/dvclive", dvcyaml=None, save_dvc_exp=False) as live:
    for epoch in range(epochs):
        rng.shuffle(train)
        for i in range(0, len(train), batch):
            part = train[i:i + batch]
            g = [0.0, 0.0, 0.0]
            for a, b, y in part:
                err = w[0] * a + w[1] * b + w[2] - y
                g[0] += err * a
                g[1] += err * b
                g[2] += err
            w = [wi - lr * 2 * gi / len(part) for wi, gi in zip(w, g)]
        live.log_metric("train/loss", mse(train))
        live.log_metric("val/loss", mse(val))
        live.next_step()
        time.sleep(epoch_sleep)

os.makedirs(os.path.dirname(model_path), exist_ok=True)
with open(model_path, "w") as f:
    json.dump({"w": w}, f)
print(f"val mse {mse(val):.4f}")
