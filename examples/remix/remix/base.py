"""The base class every remixer builds on."""


class Remixer:
    """Turns a song (a list of sample keys) into rendered audio for one customer."""

    def __init__(self, customer):
        self.customer = customer

    def render_audio(self):
        # Rendering depends on the customer (their licence, their mastering settings).
        return f"audio licensed to {self.customer}"

    def remix(self, song):
        raise NotImplementedError
