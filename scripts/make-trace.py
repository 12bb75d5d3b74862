#!/usr/bin/env python3
"""Generates the small key/operation trace that scenarios/trace-replay.yaml replays.

    scripts/make-trace.py [LINES] > scenarios/traces/small.csv

A session-store-like day in miniature: zipf-skewed user keys, 85% reads, 10% writes with sizes,
5% deletes. Deterministic (fixed seed), so the committed file can be regenerated exactly.
"""
import random
import sys

lines = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
rng = random.Random(20261122)
users = 500
weights = [1.0 / (rank ** 1.1) for rank in range(1, users + 1)]
print("key,op,size")
for _ in range(lines):
    user = rng.choices(range(users), weights)[0]
    roll = rng.random()
    if roll < 0.85:
        print(f"session:{user},get")
    elif roll < 0.95:
        print(f"session:{user},set,{rng.choice([128, 256, 512, 2048])}")
    else:
        print(f"session:{user},delete")
