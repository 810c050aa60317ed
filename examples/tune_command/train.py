"""A stand-in training script for `nasbo tune`: reads its settings from the command line
(and, to show both ways, the JSON in NASBO_PARAMS), "trains" and prints the validation
accuracy as the last line, as JSON with an extra metric."""
import argparse, json, math, os, random, sys

ap = argparse.ArgumentParser()
ap.add_argument("--lr", type=float, required=True)
ap.add_argument("--depth", type=int, required=True)
ap.add_argument("--connection", required=True)
args = ap.parse_args()
params = json.loads(os.environ.get("NASBO_PARAMS", "{}"))
momentum = params.get("momentum", 0.0)
if args.depth >= 7 and args.connection == "pool":
    print("feature map too small for this many pooling blocks", file=sys.stderr)
    sys.exit(2)  # a failed trial: nasbo records the reason and goes on
rng = random.Random(int(os.environ.get("NASBO_TRIAL", "0")))
acc = 0.95 - 0.02 * (math.log10(args.lr) + 2.5) ** 2 - 0.01 * abs(args.depth - 4)
acc -= {"skip": 0.0, "conv": 0.01, "pool": 0.015}[args.connection]
acc -= 0.02 * abs(momentum - 0.9) if params.get("optimizer") == "sgd" else 0.0
acc += rng.gauss(0, 0.002)
print(f"epoch 1/1 done")
print(json.dumps({"value": acc, "train_seconds": 0.01 * args.depth}))
