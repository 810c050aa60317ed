"""Tune a small CNN on MNIST in-process with nasbo, pruning poor trials epoch by epoch.

    pip install ./python torch numpy
    python examples/python/cnn_mnist.py [--trials 20] [--epochs 4] [--examples 4000]
                                        [--storage sqlite:cnn.db] [--seed 0]

The data are the 10,000 MNIST training images in datasets/mnist_train_10k.csv.gz (28x28, see
datasets/SOURCES.md): a random subset is split into training and validation. Each trial
trains a CNN (stem convolution, `depth` blocks of `conv`, `pool` or `skip`, global average
pooling, a linear head) with AdamW, reports the validation accuracy after every epoch, and
stops when the median pruner says it will not win. The study lives in a storage when
--storage is given, so `nasbo report --storage ... --study cnn --out report/` draws it.
Without torch, it says so and exits.
"""

import argparse
import csv
import gzip
import os
import sys
import time

try:
    import numpy as np
    import torch
    from torch import nn
except ImportError as e:  # the example needs PyTorch; nasbo itself does not
    print(f"skipped: this example needs PyTorch and numpy ({e}); pip install torch numpy")
    sys.exit(0)

import nasbo

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "datasets", "mnist_train_10k.csv.gz")


def load(n, seed):
    with gzip.open(DATA, "rt") as f:
        rows = list(csv.reader(f))[1:]
    rng = np.random.default_rng(seed)
    rows = [rows[i] for i in rng.permutation(len(rows))[:n]]
    X = np.array([[float(v) for v in r[:-1]] for r in rows], dtype=np.float32) / 255.0
    y = np.array([int(r[-1]) for r in rows])
    X = torch.tensor(X).reshape(-1, 1, 28, 28)
    cut = int(0.8 * n)
    return (X[:cut], torch.tensor(y[:cut])), (X[cut:], torch.tensor(y[cut:]))


class Block(nn.Module):
    def __init__(self, kind, width):
        super().__init__()
        self.kind = kind
        self.a = nn.Conv2d(width, width, 3, padding=1)
        self.b = nn.Conv2d(width, width, 3, padding=1) if kind == "skip" else None

    def forward(self, x):
        if self.kind == "skip":
            return torch.relu(x + self.b(torch.relu(self.a(x))))
        x = torch.relu(self.a(x))
        if self.kind == "pool" and x.shape[-1] >= 2:
            x = nn.functional.max_pool2d(x, 2)
        return x


class Net(nn.Module):
    def __init__(self, kind, depth, width, dropout):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1)
        self.blocks = nn.Sequential(*[Block(kind, width) for _ in range(depth)])
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        x = self.blocks(torch.relu(self.stem(x)))
        return self.head(self.drop(x.mean(dim=(2, 3))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--examples", type=int, default=4000)
    ap.add_argument("--storage", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    (Xtr, ytr), (Xva, yva) = load(a.examples, a.seed)

    space = {
        "lr": nasbo.Float(3e-4, 3e-2, log=True),
        "weight_decay": nasbo.Float(1e-6, 1e-2, log=True),
        "dropout": nasbo.Float(0.0, 0.5),
        "depth": nasbo.Int(1, 4),
        "width": nasbo.Int(8, 32, step=8),
        "connection": nasbo.Categorical(["conv", "pool", "skip"]),
        "batch_size": nasbo.Categorical(["32", "64", "128"]),
    }
    study = nasbo.Study(space, storage=a.storage, name="cnn", direction="maximize",
                        seed=a.seed, noisy=True,
                        pruner=nasbo.MedianPruner(max_step=a.epochs, startup_trials=4))

    def objective(trial):
        p = trial.params
        torch.manual_seed(a.seed * 1000 + trial.number)  # each trial's training is reproducible
        net = Net(p["connection"], p["depth"], p["width"], p["dropout"])
        opt = torch.optim.AdamW(net.parameters(), lr=p["lr"], weight_decay=p["weight_decay"])
        bs = int(p["batch_size"])
        acc = 0.0
        for epoch in range(1, a.epochs + 1):
            net.train()
            order = torch.randperm(len(Xtr))
            for i in range(0, len(Xtr), bs):
                idx = order[i:i + bs]
                opt.zero_grad()
                nn.functional.cross_entropy(net(Xtr[idx]), ytr[idx]).backward()
                opt.step()
            net.eval()
            with torch.no_grad():
                acc = (net(Xva).argmax(1) == yva).float().mean().item()
            trial.report(epoch, acc)
            if trial.should_prune():
                raise nasbo.TrialPruned()
        return acc

    t0 = time.time()
    study.optimize(objective, n_trials=a.trials)
    states = [t.state for t in study.trials]
    print(f"{len(states)} trials in {time.time() - t0:.0f} s: {states.count('complete')} complete, "
          f"{states.count('pruned')} pruned")
    print(f"best validation accuracy {study.best_value:.4f} with {study.best_params}")


if __name__ == "__main__":
    main()
