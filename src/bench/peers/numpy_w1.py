"""The numpy peer of `shoal train` (bench:start --part e2e, `shoal bench --peers`): Nielsen's
network.py, vectorised over the mini-batch. Sigmoid layers, quadratic cost, N(0, 1/n_in) weights and N(0, 1) biases (shoal's
default scaled-gaussian init), mini-batch SGD with the update scaled by the batch's own length,
the test set evaluated after every epoch. Reads the digits the benchmark exported from shoal's
bundled set (raw little-endian files, see src/bench/suites/start/processes.ts) and prints one JSON
object per epoch, like `shoal train --json`.

    python3 numpy_w1.py <data dir> [--sizes 784,30,10] [--epochs 10] [--batch 10] [--eta 3.0]
                        [--seed 1] [--dtype float32] [--blas-threads 1] [--turns]

--turns: wait for a line on stdin before each epoch and end at EOF (`shoal bench` takes turns with
it epoch by epoch, in one process, as with its own trainings); --epochs is then ignored.

With threadpoolctl installed it limits the BLAS to --blas-threads and says which BLAS ran in a
first JSON line ({"blas": [...]}); without it, the caller's OPENBLAS_NUM_THREADS applies.
"""
import json
import os
import sys
import time

import numpy as np

from w1_common import arguments, epoch_numbers, meta, print_epoch


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def load(directory, dtype):
    shape = meta(directory)
    n_in = shape["inputSize"]

    def part(name, count):
        x = np.fromfile(os.path.join(directory, f"{name}-inputs.f32"), dtype=np.float32).reshape(count, n_in).astype(dtype)
        y = np.fromfile(os.path.join(directory, f"{name}-labels.u8"), dtype=np.uint8).astype(np.int64)
        return x, y

    return part("train", shape["train"]), part("test", shape["test"]), shape["classes"]



def train(sizes, training, test, classes, epochs, batch, eta, seed, dtype, turns=False):
    rng = np.random.default_rng(seed)
    weights = [(rng.standard_normal((y, x)) / np.sqrt(x)).astype(dtype) for x, y in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((y, 1)).astype(dtype) for y in sizes[1:]]
    x_train, y_train = training
    x_test, y_test = test
    one_hot = np.eye(classes, dtype=dtype)[y_train]  # (n, classes)
    n = len(x_train)
    for epoch in epoch_numbers(epochs, turns):
        started = time.perf_counter()
        order = rng.permutation(n)
        for k in range(0, n, batch):
            rows = order[k:k + batch]
            a = x_train[rows].T  # (n_in, m): one column per example
            activations = [a]
            for w, b in zip(weights, biases):
                a = sigmoid(w @ a + b)
                activations.append(a)
            # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
            delta = (activations[-1] - one_hot[rows].T) * a * (1 - a)  # BP1, quadratic cost
            nabla_w, nabla_b = [None] * len(weights), [None] * len(biases)
            for layer in range(1, len(sizes)):
                if layer > 1:
                    a = activations[-layer]
                    delta = (weights[-layer + 1].T @ delta) * a * (1 - a)  # BP2
                nabla_b[-layer] = delta.sum(axis=1, keepdims=True)  # BP3, summed over the batch
                nabla_w[-layer] = delta @ activations[-layer - 1].T  # BP4, summed over the batch
            step = eta / len(rows)  # the batch's own length, so a short last batch is eta/len
            for w, b, nw, nb in zip(weights, biases, nabla_w, nabla_b):
                w -= step * nw
                b -= step * nb
        trained = time.perf_counter()
        a = x_test.T
        for w, b in zip(weights, biases):
            a = sigmoid(w @ a + b)
        accuracy = float(np.mean(np.argmax(a, axis=0) == y_test))
        print_epoch(epoch, accuracy, n, started, trained)


def main():
    args = arguments("--blas-threads", "BLAS threads (threadpoolctl)")
    dtype = np.dtype(args.dtype)
    training, test, classes = load(args.data, dtype)
    sizes = [int(s) for s in args.sizes.split(",")]
    run = lambda: train(sizes, training, test, classes, args.epochs, args.batch, args.eta, args.seed, dtype, args.turns)
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError:
        run()
        return
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        blas = [{k: i.get(k) for k in ("internal_api", "version", "num_threads", "filepath")} for i in threadpool_info() if i.get("user_api") == "blas"]
        print(json.dumps({"blas": blas}), flush=True)
        run()


if __name__ == "__main__":
    sys.exit(main())
