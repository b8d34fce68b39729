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
     (errors.StoreError, "execution"), (errors.CorruptFrameError, "execution"), (errors.BucketError, "execution"),
     (errors.ObjectNotFoundError, "execution"), (errors.BucketConfigError, "bad_data"),
     (errors.LimitExceededError, "execution")],
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


def test_parse_errors_are_bad_data_and_promql_errors_with_their_position():
    from thanos_rs.promql import Engine

    with pytest.raises(errors.PromQLParseError) as info:
        Engine().query("sum(\n  rate(up)\n)", 0)
    e = info.value
    assert isinstance(e, errors.BadDataError) and isinstance(e, errors.PromQLError) and isinstance(e, ValueError)
    assert e.error_type == "bad_data"
    # Where Prometheus 2.42 points: the argument of rate, on the second line.
    assert str(e) == '2:8: parse error: expected type range vector in call to function "rate", got instant vector'
    assert (e.line, e.column, e.position) == (2, 8, (12, 14))


def test_selectors_that_do_not_parse_say_where_too():
    from thanos_rs import _core

    with pytest.raises(errors.PromQLParseError) as info:
        _core.SeriesQuery(['up{job="a"'], 0, 1)
    assert (info.value.line, info.value.column) == (1, 11)
    assert str(info.value).startswith("1:11: parse error: ")


def test_bucket_errors_are_one_family_under_store_errors(tmp_path):
    from thanos_rs.objstore import Bucket

    assert issubclass(errors.ObjectNotFoundError, errors.BucketError)
    assert issubclass(errors.BucketConfigError, errors.BucketError) and issubclass(errors.BucketConfigError, ValueError)
    assert issubclass(errors.BucketError, errors.StoreError)
    bucket = Bucket.from_config(f"type: FILESYSTEM\nconfig:\n  directory: {tmp_path}\n")
    # Raised by the core by name, with the kind's error type.
    with pytest.raises(errors.ObjectNotFoundError) as info:
        bucket.get("missing")
    assert (str(info.value), info.value.error_type) == ("get missing: object not found", "execution")


def test_every_exception_class_of_the_package_is_in_errors():
    """No module defines an exception class of its own (the contract: one
    hierarchy, importable from one place), the Rust extension included.
    Warning categories (``PartialResponseWarning``) are not raised, and stay
    with the API that warns."""
    import importlib
    import inspect
    import pkgutil

    import thanos_rs

    elsewhere = []
    for info in pkgutil.walk_packages(thanos_rs.__path__, "thanos_rs."):
        if info.name.endswith("__main__"):  # running it is the CLI
            continue
        module = importlib.import_module(info.name)
        elsewhere += [
            f"{info.name}.{name}" for name, obj in inspect.getmembers(module, inspect.isclass)
            if issubclass(obj, BaseException) and not issubclass(obj, Warning)
            and obj.__module__ == info.name and info.name != "thanos_rs.errors"
        ]
    assert elsewhere == []
    # And every class there is listed, so that the hierarchy test sees it.
    defined = {name for name, obj in inspect.getmembers(errors, inspect.isclass)
               if issubclass(obj, BaseException) and obj.__module__ == errors.__name__}
    assert defined == set(errors.__all__)


def test_discovery_errors_are_one_family():
    assert issubclass(errors.NameNotFoundError, errors.DiscoveryError)
    assert issubclass(errors.LookupFailedError, errors.DiscoveryError)
    assert issubclass(errors.FileSDError, errors.DiscoveryError)
