"""The reference of bench/float64-reference.ts: network.py's SGD in float64 numpy, from given weights,
over given inputs, mini-batches in order (no shuffle). Sigmoid layers, quadratic cost, the update
scaled by the batch's own length. Reads <dir>/init.json ({"sizes", "weights", "biases"}, weights
row-major per layer), <dir>/inputs-<name>.f64 and <dir>/labels.u8; writes <dir>/numpy-<name>.json.

    python3 bench/float64_reference.py <dir> <epochs> <batch> <eta> <name> [<name> ...]
"""
import json
import os
import sys

import numpy as np


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def main():
    directory, epochs, batch, eta = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    with open(os.path.join(directory, "init.json")) as f:
        init = json.load(f)
    sizes = init["sizes"]
    labels = np.fromfile(os.path.join(directory, "labels.u8"), dtype=np.uint8).astype(np.int64)
    n = len(labels)
    one_hot = np.eye(sizes[-1])[labels]
    for name in sys.argv[5:]:
        x = np.fromfile(os.path.join(directory, f"inputs-{name}.f64"), dtype=np.float64).reshape(n, sizes[0])
        weights = [np.array(w, dtype=np.float64).reshape(y, k) for w, k, y in zip(init["weights"], sizes[:-1], sizes[1:])]
        biases = [np.array(b, dtype=np.float64).reshape(y, 1) for b, y in zip(init["biases"], sizes[1:])]
        for _ in range(epochs):
            for k in range(0, n, batch):
                rows = slice(k, k + batch)
                a = x[rows].T
                activations = [a]
                for w, b in zip(weights, biases):
                    a = sigmoid(w @ a + b)
                    activations.append(a)
                delta = (activations[-1] - one_hot[rows].T) * a * (1 - a)  # BP1
                nabla_w, nabla_b = [None] * len(weights), [None] * len(biases)
                for layer in range(1, len(sizes)):
                    if layer > 1:
                        a = activations[-layer]
                        delta = (weights[-layer + 1].T @ delta) * a * (1 - a)  # BP2
                    nabla_b[-layer] = delta.sum(axis=1, keepdims=True)  # BP3
                    nabla_w[-layer] = delta @ activations[-layer - 1].T  # BP4
                step = eta / (min(k + batch, n) - k)
                for w, b, nw, nb in zip(weights, biases, nabla_w, nabla_b):
                    w -= step * nw
                    b -= step * nb
        with open(os.path.join(directory, f"numpy-{name}.json"), "w") as f:
            json.dump({"weights": [w.ravel().tolist() for w in weights], "biases": [b.ravel().tolist() for b in biases]}, f)


main()
