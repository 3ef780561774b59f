"""stateleak's run-time half: proof that state leaks between requests and between tests.

`stateleak.replay(callable, inputs)` runs inputs in one interpreter and compares each answer with a
fresh process's; `pytest --stateleak` names the test that left a shared object changed.
"""

from stateleak.replay import ReplayResult, replay

__all__ = ["ReplayResult", "replay"]
