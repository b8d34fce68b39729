"""The shipper: uploads the blocks Prometheus cuts to object storage
(``pkg/shipper`` upstream)."""

from thanos_rs.shipper.shipper import Shipper

__all__ = ["Shipper"]
