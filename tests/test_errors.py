"""thanos_rs.errors: one hierarchy, each class with Prometheus's error type."""

from __future__ import annotations

import pytest

from thanos_rs import errors


def test_every_class_derives_from_the_base():
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), errors.ThanosRsError)


@pytest.mark.parametrize(
    "cls, error_type",
    [(errors.BadDataError, "bad_data"), (errors.PromQLError, "execution"), (errors.CorruptChunkError, "internal"),
     (errors.StoreError, "execution"), (errors.CorruptFrameError, "execution")],
)
def test_default_error_types(cls, error_type):
    assert cls("x").error_type == error_type


def test_errors_of_other_modules_are_the_same_classes():
    # Kept importable where they were raised first.
    from thanos_rs.demo.app import DemoError
    from thanos_rs.sidecar.prometheus import PrometheusError
    from thanos_rs.sidecar.reloader import ReloaderError

    assert (DemoError, PrometheusError, ReloaderError) == (errors.DemoError, errors.PrometheusError,
                                                          errors.ReloaderError)


def test_error_type_can_be_set_and_is_checked():
    assert errors.PromQLError("query timed out", "timeout").error_type == "timeout"
    with pytest.raises(ValueError):
        errors.PromQLError("x", "nonsense")
