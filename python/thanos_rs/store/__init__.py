"""``thanos_rs store``: the store gateway, the StoreAPI over blocks in object
storage (``cmd/thanos/store.go`` and ``pkg/store/bucket.go`` upstream)."""
