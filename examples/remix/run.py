"""Two customers' requests served by one long-running interpreter.

Run with plain `python run.py`: the second customer receives audio rendered for the first.
"""

from remix.pattern import PatternRemixer


def handle_request(customer, song):
    return PatternRemixer(customer).remix(song)


if __name__ == "__main__":
    first = handle_request("alice", ["kick", "snare"])
    second = handle_request("bob", ["kick", "hat"])
    print("alice got:", first)
    print("bob got:  ", second)
    leaked = [sample for sample in second if "alice" in sample]
    if leaked:
        print(f"LEAK: bob received {len(leaked)} sample(s) rendered for alice")
