"""``python -m thanos_rs tools``: Thanos's ``tools`` commands (``cmd/thanos/tools*.go``)."""
