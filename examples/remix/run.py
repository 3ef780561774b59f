"""Two remix requests served by one long-running interpreter, as in a web worker.

Run with plain `python run.py`: the second remix returns samples rendered for the first song.
"""

from remix.pattern import PatternRemixer


def handle_request(track, pattern):
    return PatternRemixer(track).remix(pattern)


if __name__ == "__main__":
    first = handle_request("Song A", ["kick", "snare"])
    second = handle_request("Song B", ["kick", "hat"])
    print("Song A remix:", first)
    print("Song B remix:", second)
    leaked = [sample for sample in second if "Song A" in sample]
    if leaked:
        print(f"LEAK: the Song B remix returned {len(leaked)} sample(s) of Song A")
