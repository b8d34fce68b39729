"""A TSDB block as Thanos keeps it in object storage (``pkg/block`` upstream):
its ``meta.json`` with Thanos's section, and its upload."""
