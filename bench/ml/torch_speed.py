"""PyTorch CPU training speed (images/s) for the networks of nets.ts, printed as JSON lines.

Same layers, initial weight scale, loss, optimizer, batch and timing rule as tfjs-speed.ts.
    .bench/venv/bin/python bench/ml/torch_speed.py 64,128 [minSeconds] [threads]
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout):
    return nn.Conv2d(cin, cout, 3, padding=1)


class Band(nn.Module):
    """Network 1 (src/ml/band-net.ts): width 16, 16 feature channels."""

    def __init__(self, w=16, feat=16):
        super().__init__()
        self.stem = conv(1, w)
        self.down1 = conv(w, 2 * w)
        self.res1a, self.res1b = conv(2 * w, 2 * w), conv(2 * w, 2 * w)
        self.down2 = conv(2 * w, 4 * w)
        self.res2a, self.res2b = conv(4 * w, 4 * w), conv(4 * w, 4 * w)
        self.feat = conv(4 * w, feat)
        self.head = nn.Linear(feat, 5)

    def forward(self, x):
        h = F.relu(self.stem(x))
        h = F.relu(self.down1(F.avg_pool2d(h, 2)))
        h = F.relu(h + self.res1b(F.relu(self.res1a(h))))
        h = F.relu(self.down2(F.avg_pool2d(h, 2)))
        h = F.relu(h + self.res2b(F.relu(self.res2a(h))))
        h = F.relu(self.feat(F.avg_pool2d(h, 2)))
        return self.head(h.mean(dim=(2, 3)))


class Reference(nn.Module):
    """The plain 5-band reference CNN of nets.ts."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = conv(5, 32), conv(32, 64), conv(64, 128)
        self.d = nn.Linear(128, 5)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return self.d(F.relu(self.c3(h)).mean(dim=(2, 3)))


def main():
    sizes = [int(s) for s in (sys.argv[1] if len(sys.argv) > 1 else "64,128").split(",")]
    min_seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 8.0
    if len(sys.argv) > 3:
        torch.set_num_threads(int(sys.argv[3]))
    batch = 32
    torch.manual_seed(1)
    for name, make, channels in (("band", Band, 1), ("reference", Reference, 5)):
        for size in sizes:
            net = make()
            opt = torch.optim.Adam(net.parameters(), lr=1e-3)
            x = torch.randn(batch, channels, size, size)
            y = torch.arange(batch) % 5

            def step():
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(net(x), y)
                loss.backward()
                opt.step()
                return loss.item()

            step()
            step()
            steps, t0 = 0, time.perf_counter()
            while steps < 3 or time.perf_counter() - t0 < min_seconds:
                step()
                steps += 1
            seconds = time.perf_counter() - t0
            print(json.dumps({
                "engine": "pytorch", "version": f"torch {torch.__version__}, {torch.get_num_threads()} threads",
                "net": name, "size": size, "batch": batch, "steps": steps, "imagesPerSecond": steps * batch / seconds,
            }), flush=True)


if __name__ == "__main__":
    main()
