"""``python -m thanos_rs demo``: the Thanos global-view tutorial on one machine."""
