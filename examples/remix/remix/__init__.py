"""A tiny remix service: the scenario stateleak was built for."""
