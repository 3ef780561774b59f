"""The base class every remixer builds on."""


class Remixer:
    """Remixes one track: renders samples (kick, snare, ...) in that track's sound."""

    def __init__(self, track):
        self.track = track

    def render_audio(self):
        # Rendering depends on the track being remixed (its tempo, key and mastering).
        return f"sample rendered for {self.track!r}"

    def remix(self, song):
        raise NotImplementedError
