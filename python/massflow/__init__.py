"""massflow's helper for stages written in Python. Standard library only.

Inside a massflow `cmd:` stage the runner puts this package on PYTHONPATH and hands the stage an
events file (MASSFLOW_EVENTS); everything logged here is appended to it as JSON lines and reaches
the live view, the run record and MLflow while the stage runs. Outside massflow the same script
runs unchanged: params come from the defaults and metrics are printed to stderr.

    import massflow as mf

    lr = mf.param("fit.lr", float, default=1e-3)
    for epoch in range(epochs):
        if mf.should_stop():
            break
        mf.log_metric("loss", loss, step=epoch)
        mf.progress(epoch + 1, epochs)
    mf.artifact("reports/curve.png")

Stopping: massflow stops a stage with SIGTERM and kills it after its `stop_grace`. Once this module
is imported, SIGTERM sets the stop flag that should_stop() reads; with stop_raises() it raises
Stopped (a BaseException) in the main thread instead.
"""
from __future__ import annotations

import dataclasses
import json
import math
import operator
import os
import signal
import sys
import threading
import time
import typing
from typing import Any, Callable, Optional, Type, TypeVar

__all__ = [
    "inside_massflow", "params", "param", "load_params", "ParamError", "log_metric", "log_metrics",
    "progress", "artifact", "log", "should_stop", "stop_raises", "Stopped", "stage", "run_id", "outs",
]

EVENTS_FORMAT_VERSION = 1
_T = TypeVar("_T")


class ParamError(ValueError):
    """A param is missing or has the wrong type; the message names it."""


class Stopped(BaseException):
    """Raised (after stop_raises()) when massflow asks the stage to stop. Not an Exception, so a
    broad `except Exception` in a training loop does not swallow it."""


def inside_massflow() -> bool:
    """True when massflow runs this script as a stage (it set MASSFLOW_EVENTS)."""
    return bool(os.environ.get("MASSFLOW_EVENTS"))


def stage() -> Optional[str]:
    return os.environ.get("MASSFLOW_STAGE")


def run_id() -> Optional[str]:
    return os.environ.get("MASSFLOW_RUN_ID")


def outs() -> list:
    """The stage's declared outputs, as absolute paths ([] outside massflow)."""
    return list(_json_env("MASSFLOW_OUTS", []))


def _json_env(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        return json.loads(raw)
    except ValueError as e:
        raise ParamError(f"{name} is not JSON: {e}") from None


# ---- params -------------------------------------------------------------------------------------

def params() -> dict:
    """The stage's params (the keys its `params:` declares), as a nested dict; {} outside massflow."""
    return dict(_json_env("MASSFLOW_PARAMS", {}))


_MISSING = object()


def param(key: str, typ: Callable[[Any], _T] = lambda v: v, default: Any = _MISSING) -> _T:
    """A param by dotted key, checked against `typ` (int, float, str, bool, list, dict, or any
    callable that converts). Without massflow's value the default is used; with neither, ParamError."""
    node: Any = params()
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            if default is _MISSING:
                raise ParamError(f"param '{key}' is not set (declare it in the stage's params:, or give a default)")
            return default
    return _check(key, node, typ)


def _check(key: str, value: Any, typ: Any) -> Any:
    if typ is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if typ in (int, str, bool, list, dict):
        if typ is int and isinstance(value, bool) or not isinstance(value, typ):
            raise ParamError(f"param '{key}' must be {typ.__name__}, got {type(value).__name__} {value!r}")
        return value
    origin = typing.get_origin(typ)
    if origin is not None:  # list[int], dict[str, float], Optional[...]: check the outer type
        if origin is typing.Union:
            for arm in typing.get_args(typ):
                if arm is type(None) and value is None:
                    return None
                try:
                    return _check(key, value, arm)
                except ParamError:
                    continue
            raise ParamError(f"param '{key}' must be {typ}, got {value!r}")
        return _check(key, value, origin)
    if typ is typing.Any:
        return value
    try:
        return typ(value)
    except (TypeError, ValueError) as e:
        raise ParamError(f"param '{key}': {e}") from None


def load_params(cls: Type[_T], prefix: str = "") -> _T:
    """Fills a dataclass from the params (fields under `prefix`, e.g. "fit"), checking each field's
    type; fields massflow does not set keep their defaults."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError("load_params takes a dataclass")
    hints = typing.get_type_hints(cls)
    values = {}
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        has_default = f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING  # type: ignore[misc]
        v = param(key, lambda x: x, default=_MISSING if not has_default else None)
        if v is None and has_default:
            continue
        values[f.name] = _check(key, v, hints.get(f.name, typing.Any))
    return cls(**values)  # type: ignore[call-arg]


# ---- events -------------------------------------------------------------------------------------

class _Channel:
    """Appends whole lines with one write each to an O_APPEND descriptor: the runner never sees half
    a message unless the process dies inside a write."""

    def __init__(self) -> None:
        self.fd: Optional[int] = None
        self.lock = threading.Lock()
        path = os.environ.get("MASSFLOW_EVENTS")
        if path:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def send(self, msg: dict) -> None:
        if self.fd is not None:
            self.write(json.dumps(msg, separators=(",", ":"), allow_nan=False) + "\n")

    def write(self, line: str) -> None:
        data = line.encode()
        with self.lock:
            os.write(self.fd, data)  # type: ignore[arg-type]


_channel = _Channel()


def _say(text: str) -> None:
    if _channel.fd is None:
        print(text, file=sys.stderr, flush=True)


_key_json: dict = {}


def log_metric(key: str, value: float, step: Optional[int] = None, timestamp: Optional[float] = None) -> None:
    """One metric point; `step` (an int >= 0) makes it a point of a curve (an epoch, a batch)."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"metric '{key}' must be a finite number, got {value!r}")
    if step is not None and (type(step) is not int or step < 0):
        # numpy integers are welcome (operator.index takes them); bools and floats are not.
        given = step
        try:
            step = operator.index(step) if not isinstance(step, bool) else -1
        except TypeError:
            step = -1
        if step < 0:
            raise ValueError(f"metric '{key}': step must be an int >= 0, got {given!r}")
    if _channel.fd is None:
        _say(f"{key}: {v:g}" + ("" if step is None else f"  (step {step})"))
        return
    k = _key_json.get(key)
    if k is None:
        k = _key_json[key] = json.dumps(str(key))
    # Formatted by hand: this runs once per point, and json.dumps of a dict is several times slower.
    # repr of a finite float is valid JSON.
    ts = int((timestamp if timestamp is not None else time.time()) * 1000)
    if step is None:
        _channel.write('{"type":"metric","key":%s,"value":%r,"timestamp":%d}\n' % (k, v, ts))
    else:
        _channel.write('{"type":"metric","key":%s,"value":%r,"step":%d,"timestamp":%d}\n' % (k, v, step, ts))


def log_metrics(metrics: dict, step: Optional[int] = None) -> None:
    for k, v in metrics.items():
        log_metric(k, v, step)


def progress(done: float, total: float) -> None:
    """How far the stage is (e.g. epochs done of epochs); the live view draws it as a bar."""
    if total <= 0 or done < 0:
        raise ValueError("progress needs done >= 0 and total > 0")
    _channel.send({"type": "progress", "done": done, "total": total})
    _say(f"progress: {done}/{total}")


def artifact(path: str, name: Optional[str] = None) -> None:
    """A file to attach to the stage's MLflow run (relative paths are from the working directory)."""
    msg: dict = {"type": "artifact", "path": os.path.abspath(path)}
    if name is not None:
        msg["name"] = name
    _channel.send(msg)


def log(line: str) -> None:
    """A line for the stage's log (printing to stdout or stderr does the same)."""
    if _channel.fd is None:
        print(line, file=sys.stderr, flush=True)
    else:
        _channel.send({"type": "log", "line": str(line)})


# ---- stopping -----------------------------------------------------------------------------------

_stop = threading.Event()
_raise_on_stop = False


def should_stop() -> bool:
    """True once massflow asked the stage to stop (SIGTERM): save what is worth saving and return."""
    return _stop.is_set()


def stop_raises(enabled: bool = True) -> None:
    """From now on a stop request raises Stopped in the main thread (the default only sets the flag)."""
    global _raise_on_stop
    _raise_on_stop = enabled
    if enabled and _stop.is_set():
        raise Stopped("massflow asked the stage to stop")


def _on_term(signum: int, frame: Any) -> None:
    _stop.set()
    if _raise_on_stop:
        raise Stopped("massflow asked the stage to stop")


def _install() -> None:
    # Only where the script did not set a handler of its own, and only in the main thread.
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
        signal.signal(signal.SIGTERM, _on_term)


_install()
