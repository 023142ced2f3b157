"""The bench driver's parts; `bench/bench.py` is the command."""
