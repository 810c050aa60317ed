"""PyTorch CPU reference for examples/train_throughput.rs: the same two models (an MLP with three
hidden layers of 64 — nasbo's stem plus two blocks —, and a CNN with a 3x3 stem conv 1->32 and one 3x3 conv 32->32, global
average pooling and a linear head), AdamW lr 1e-3, batch 64, 5 epochs on the 1,079 training
images of digits (standardized), timing the training loop only.

    python3 -m venv /tmp/torchvenv && /tmp/torchvenv/bin/pip install torch numpy
    /tmp/torchvenv/bin/python benches/compare/train_torch.py [--threads N]
"""
import csv, os, sys, time

import numpy as np
import torch
from torch import nn

threads = int(sys.argv[sys.argv.index("--threads") + 1]) if "--threads" in sys.argv else torch.get_num_threads()
torch.set_num_threads(threads)
torch.manual_seed(0)
here = os.path.dirname(os.path.abspath(__file__))
rows = list(csv.reader(open(os.path.join(here, "..", "..", "datasets", "digits.csv"))))[1:]
X = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32)
y = np.array([int(r[-1]) for r in rows])
rng = np.random.default_rng(0)
idx = rng.permutation(len(y))[:1079]
X, y = X[idx], y[idx]
X = (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1)
Xt, yt = torch.tensor(X), torch.tensor(y)

class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.block, self.head = nn.Conv2d(1, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1), nn.Linear(32, 10)
    def forward(self, x):
        x = torch.relu(self.stem(x.view(-1, 1, 8, 8)))
        x = torch.relu(self.block(x))
        return self.head(x.mean((2, 3)))

models = {
    "mlp_2x64": nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)),
    "cnn_2conv_32ch_8x8": Cnn(),
}
for name, model in models.items():
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    t = time.perf_counter()
    for epoch in range(5):
        perm = torch.randperm(len(yt))
        for i in range(0, len(yt), 64):
            b = perm[i:i + 64]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(Xt[b]), yt[b])
            loss.backward()
            opt.step()
    dt = time.perf_counter() - t
    print(f"{name}: {5 * len(yt) / dt:.0f} training examples/s (torch {torch.__version__}, {threads} threads)")
