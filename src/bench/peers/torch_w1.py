"""The PyTorch peer of `shoal bench --peers`: Nielsen's network.py in torch tensors, vectorised over
the mini-batch, written out (no autograd) the way numpy_w1.py is, so both peers do the same
arithmetic as shoal: sigmoid layers, quadratic cost, N(0, 1/n_in) weights and N(0, 1) biases,
mini-batch SGD with the update scaled by the batch's own length, the test set evaluated after every
epoch. Reads the digits shoal exported (raw little-endian files, see
src/bench/suites/start/processes.ts) and prints one JSON object per epoch, like `shoal train --json`.

    python3 torch_w1.py <data dir> [--sizes 784,30,10] [--epochs 10] [--batch 10] [--eta 3.0]
                        [--seed 1] [--dtype float32] [--threads 1] [--turns]

--threads: torch's intra-op threads (torch.set_num_threads). --turns: wait for a line on stdin
before each epoch and end at EOF (`shoal bench` takes turns with it epoch by epoch).
"""
import os
import sys
import time

import torch

from w1_common import arguments, epoch_numbers, meta, print_epoch


def load(directory, dtype):
    shape = meta(directory)
    n_in = shape["inputSize"]

    def read(file, dtype):  # torch alone, without numpy
        with open(os.path.join(directory, file), "rb") as f:
            return torch.frombuffer(bytearray(f.read()), dtype=dtype)

    def part(name, count):
        x = read(f"{name}-inputs.f32", torch.float32).reshape(count, n_in).to(dtype)
        y = read(f"{name}-labels.u8", torch.uint8).to(torch.int64)
        return x, y

    return part("train", shape["train"]), part("test", shape["test"]), shape["classes"]



def train(sizes, training, test, classes, epochs, batch, eta, seed, dtype, turns):
    generator = torch.Generator().manual_seed(seed)
    weights = [torch.randn((y, x), generator=generator, dtype=dtype) / x ** 0.5 for x, y in zip(sizes[:-1], sizes[1:])]
    biases = [torch.randn((y, 1), generator=generator, dtype=dtype) for y in sizes[1:]]
    x_train, y_train = training
    x_test, y_test = test
    one_hot = torch.eye(classes, dtype=dtype)[y_train]  # (n, classes)
    n = len(x_train)
    for epoch in epoch_numbers(epochs, turns):
        started = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        for k in range(0, n, batch):
            rows = order[k:k + batch]
            a = x_train[rows].T  # (n_in, m): one column per example
            activations = [a]
            for w, b in zip(weights, biases):
                a = torch.sigmoid(w @ a + b)
                activations.append(a)
            # σ'(z) = σ(z)(1 − σ(z)) = a(1 − a)
            delta = (a - one_hot[rows].T) * a * (1 - a)  # BP1, quadratic cost
            nabla_w, nabla_b = [None] * len(weights), [None] * len(biases)
            for layer in range(1, len(sizes)):
                if layer > 1:
                    a = activations[-layer]
                    delta = (weights[-layer + 1].T @ delta) * a * (1 - a)  # BP2
                nabla_b[-layer] = delta.sum(dim=1, keepdim=True)  # BP3, summed over the batch
                nabla_w[-layer] = delta @ activations[-layer - 1].T  # BP4, summed over the batch
            step = eta / len(rows)  # the batch's own length, so a short last batch is eta/len
            for w, b, nw, nb in zip(weights, biases, nabla_w, nabla_b):
                w.sub_(nw, alpha=step)
                b.sub_(nb, alpha=step)
        trained = time.perf_counter()
        a = x_test.T
        for w, b in zip(weights, biases):
            a = torch.sigmoid(w @ a + b)
        accuracy = float((a.argmax(dim=0) == y_test).to(torch.float64).mean())
        print_epoch(epoch, accuracy, n, started, trained)


def main():
    args = arguments("--threads", "torch's intra-op threads")
    torch.set_num_threads(args.threads)
    dtype = torch.float32 if args.dtype == "float32" else torch.float64
    training, test, classes = load(args.data, dtype)
    sizes = [int(s) for s in args.sizes.split(",")]
    with torch.no_grad():
        train(sizes, training, test, classes, args.epochs, args.batch, args.eta, args.seed, dtype, args.turns)


if __name__ == "__main__":
    sys.exit(main())
