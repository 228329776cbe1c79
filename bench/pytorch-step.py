"""
The LeNet-5 training step of bench/peers.ts in PyTorch (batch 64, float32, SGD lr 0.01 momentum 0.9),
for the peers table: the same layers as tuckergrad's nn.lenet5() (conv 5x5 1->20, relu, maxpool 2,
conv 5x5 20->50, relu, maxpool 2, linear 800->500, relu, linear 500->10, cross-entropy).
Timed as bench/timing.ts does: warm-up (2 runs and at least 150 ms), then the best of `reps` runs,
stopping after 4 s once 3 runs are done. Prints one JSON line: {"ms": best, "threads": n, "torch": version}.
Run: /usr/bin/python3 bench/pytorch-step.py [threads] [reps] [batch]
"""
import json
import sys
import time

import torch
from torch import nn

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 8
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
torch.set_num_threads(threads)
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(1, 20, 5), nn.MaxPool2d(2), nn.ReLU(),
    nn.Conv2d(20, 50, 5), nn.MaxPool2d(2), nn.ReLU(),
    nn.Flatten(), nn.Linear(800, 500), nn.ReLU(), nn.Linear(500, 10),
)
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
x = torch.randn(batch, 1, 28, 28)
y = torch.arange(batch) % 10
loss_fn = nn.CrossEntropyLoss()


def step():
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()


w0 = time.perf_counter()
i = 0
while i < 2 or time.perf_counter() - w0 < 0.15:
    step()
    i += 1
best = float("inf")
t0 = time.perf_counter()
for r in range(reps):
    t = time.perf_counter()
    step()
    best = min(best, time.perf_counter() - t)
    if r >= 2 and time.perf_counter() - t0 > 4:
        break
print(json.dumps({"ms": best * 1000, "threads": torch.get_num_threads(), "torch": torch.__version__}))
