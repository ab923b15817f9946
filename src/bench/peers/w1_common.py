"""What the W1 peers (numpy_w1.py, torch_w1.py) share: their command line, the data's meta file,
the epochs they run, and the JSON line each epoch prints (the shape of `shoal train --json`)."""
import argparse
import json
import os
import sys
import time


def arguments(threads_flag, threads_help):
    """The peers' command line; `threads_flag` names the option that sets their library's threads."""
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--sizes", default="784,30,10")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--eta", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument(threads_flag, type=int, default=1, help=threads_help)
    parser.add_argument("--turns", action="store_true")
    return parser.parse_args()


def meta(directory):
    """The exported data's shape: inputSize, train, test, classes."""
    with open(os.path.join(directory, "meta.json")) as f:
        return json.load(f)


def epoch_numbers(epochs, turns):
    """1, 2, …: up to `epochs`, or with `turns` one per line read from stdin until EOF."""
    epoch = 0
    while turns or epoch < epochs:
        if turns and not sys.stdin.readline():
            return
        epoch += 1
        yield epoch


def print_epoch(epoch, accuracy, examples, started, trained):
    """One epoch's JSON line: examples/s over its training loop, seconds with the test."""
    seconds = time.perf_counter() - started
    print(json.dumps({"epoch": epoch, "testAccuracy": accuracy, "examplesPerSecond": examples / (trained - started), "seconds": seconds}), flush=True)
