"""The remix service with the leak fixed: each remixer renders into a cache of its own.

`python -m stateleak replay fixed:handle_request --call "('Song A', ['kick'])" ...` passes here,
where the same replay of `run:handle_request` proves the leak.
"""

from remix.base import Remixer


class OwnCachePatternRemixer(Remixer):
    def __init__(self, track):
        super().__init__(track)
        self._samplecache = {}  # per instance: one request's samples stay in that request

    def remix(self, song):
        for key in song:
            if key not in self._samplecache:
                self._samplecache[key] = self.render_audio()
        return [self._samplecache[key] for key in song]


def handle_request(track, pattern):
    return OwnCachePatternRemixer(track).remix(pattern)
