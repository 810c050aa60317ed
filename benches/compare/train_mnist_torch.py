"""PyTorch CPU reference for examples/train_mnist.rs: the same networks (nasbo's `net` module:
a 3x3 stem conv 1->width + ReLU; `depth` blocks of one kind, `conv` = 3x3 conv + ReLU, `pool` =
3x3 conv + ReLU + 2x2 max pooling while the side is >= 2, `skip` = ReLU(x + conv(ReLU(conv(x))));
global average pooling; a linear head; the MLP: a linear stem 784->width + ReLU, `depth` dense
blocks + ReLU, a linear head), AdamW lr 1e-3, batch 64, one epoch over the same number of MNIST
28x28 images from datasets/mnist_train_10k.csv.gz, after one warm-up step, timing the training
loop only.

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
    /tmp/torchvenv/bin/python benches/compare/train_mnist_torch.py [--threads 2] [--examples 1280]
"""
import csv, gzip, os, sys, time

import numpy as np
import torch
from torch import nn


def arg(name, default):
    return type(default)(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


threads = arg("--threads", 2)
examples = arg("--examples", 1280)
only = arg("--only", "")
torch.set_num_threads(threads)
torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
with gzip.open(os.path.join(here, "..", "..", "datasets", "mnist_train_10k.csv.gz"), "rt") as f:
    rows = list(csv.reader(f))[1:]
rng = np.random.default_rng(0)
rows = [rows[i] for i in rng.permutation(len(rows))[:examples]]
X = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32)
y = np.array([int(r[-1]) for r in rows])
X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
Xt, yt = torch.tensor(X), torch.tensor(y)

# The same list as examples/train_mnist.rs.
CONFIGS = [
    ("conv_d2_w32", "conv", 2, 32),
    ("conv_d3_w64", "conv", 3, 64),
    ("pool_d2_w32", "pool", 2, 32),
    ("pool_d3_w64", "pool", 3, 64),
    ("skip_d2_w32", "skip", 2, 32),
    ("skip_d3_w64", "skip", 3, 64),
    ("mlp_d3_w256", "dense", 3, 256),
]


class Block(nn.Module):
    def __init__(self, kind, w, side):
        super().__init__()
        self.kind, self.pool = kind, kind == "pool" and side >= 2
        self.a = nn.Conv2d(w, w, 3, padding=1)
        self.b = nn.Conv2d(w, w, 3, padding=1) if kind == "skip" else None

    def forward(self, x):
        if self.kind == "skip":
            return torch.relu(x + self.b(torch.relu(self.a(x))))
        x = torch.relu(self.a(x))
        return nn.functional.max_pool2d(x, 2) if self.pool else x


class Cnn(nn.Module):
    def __init__(self, kind, depth, w):
        super().__init__()
        self.stem = nn.Conv2d(1, w, 3, padding=1)
        blocks, side = [], 28
        for _ in range(depth):
            blocks.append(Block(kind, w, side))
            if kind == "pool" and side >= 2:
                side //= 2
        self.blocks, self.head = nn.Sequential(*blocks), nn.Linear(w, 10)

    def forward(self, x):
        x = self.blocks(torch.relu(self.stem(x.view(-1, 1, 28, 28))))
        return self.head(x.mean((2, 3)))


def mlp(depth, w):
    layers = [nn.Linear(784, w), nn.ReLU()]
    for _ in range(depth):
        layers += [nn.Linear(w, w), nn.ReLU()]
    return nn.Sequential(*layers, nn.Linear(w, 10))


def epoch(model, opt, idx):
    for i in range(0, len(idx), 64):
        b = idx[i:i + 64]
        opt.zero_grad()
        nn.functional.cross_entropy(model(Xt[b]), yt[b]).backward()
        opt.step()


print(f"torch {torch.__version__}, {threads} threads, {len(yt)} training examples, batch 64")
for name, kind, depth, width in CONFIGS:
    if not name.startswith(only):
        continue
    model = mlp(depth, width) if kind == "dense" else Cnn(kind, depth, width)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    epoch(model, opt, torch.arange(64))  # warm-up
    t = time.perf_counter()
    epoch(model, opt, torch.randperm(len(yt)))
    dt = time.perf_counter() - t
    params = sum(p.numel() for p in model.parameters())
    print(f"{name}: {len(yt) / dt:.0f} training examples/s ({params} parameters)")
